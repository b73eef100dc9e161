"""Write one benchmark's section of docs/benchmarks.md, keeping the others."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Each section is rewritten by the benchmark that measures it (`make bench`). Every "
    "figure stands beside the bare ceiling of the same work, measured on the same machine "
    "in the same run.\n"
)


def write_section(title: str, body: str) -> None:
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    block = f"<!-- bench:{title} -->\n## {title}\n\n{body}\n<!-- /bench:{title} -->\n"
    pattern = re.compile(
        rf"<!-- bench:{re.escape(title)} -->.*?<!-- /bench:{re.escape(title)} -->\n", re.S
    )
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
    BENCHMARKS.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS.write_text(text)
