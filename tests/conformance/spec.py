"""The worked example of docs/sync-protocol.md §13, read from the document itself, so the
text a second team copies is the text the tests check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SPEC = Path(__file__).resolve().parents[2] / "docs" / "sync-protocol.md"


@dataclass(frozen=True)
class WorkedExample:
    site_key: str  # ANCHANG_EDGE_SITE_KEY as printed
    raw_key_hex: str
    signed_line: str  # the canonical JSON the envelope's signature is over
    stated_sig: str  # the `sig = …` printed under it
    messages: list[str]  # every one-line wire message, in order


def worked_example() -> WorkedExample:
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 13. Worked example", 1)[1].split("\n## 14.", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)
    key = re.search(r"ANCHANG_EDGE_SITE_KEY = (\S+)", section)
    raw = re.search(r"raw key \(hex\)\s+= ([0-9a-f]{64})", section)
    stated = re.search(r"`sig = ([0-9a-f]{64})`", section)
    unsigned = [body.strip() for lang, body in blocks
                if not lang and body.lstrip().startswith('{"') and '"sig"' not in body]
    messages = [body.strip() for lang, body in blocks if lang == "json"]
    assert key and raw and stated and len(unsigned) == 1, "§13 lost its shape"
    return WorkedExample(key.group(1), raw.group(1), unsigned[0], stated.group(1), messages)
