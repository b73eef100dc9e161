"""The console names every audit action the cloud records (cloud/web/src/utils/labels.ts),
so an auditor never reads a bare code: a new `action="…"` without its Chinese name fails
here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "cloud" / "web" / "src" / "utils" / "labels.ts"


def recorded_actions() -> set[str]:
    actions: set[str] = set()
    for source in (ROOT / "cloud").rglob("*.py"):
        actions |= set(re.findall(r'\baction="([a-z_]+\.[a-z_.]+)"', source.read_text("utf-8")))
    return actions


def named_actions() -> dict[str, str]:
    text = LABELS.read_text("utf-8")
    block = re.search(r"AUDIT_ACTION_NAMES: Record<string, string> = \{(.*?)\n\}", text, re.S)
    assert block, "AUDIT_ACTION_NAMES not found in labels.ts"
    return dict(re.findall(r"'([a-z_.]+)': '([^']+)'", block.group(1)))


def test_every_recorded_action_has_a_chinese_name() -> None:
    recorded = recorded_actions()
    assert {"auth.login", "customer.unmask", "visit.export", "sync.reject"} <= recorded
    names = named_actions()
    assert sorted(recorded - names.keys()) == []
    assert all(re.search(r"[\u4e00-\u9fff]", name) for name in names.values())
