"""Write one benchmark's section of docs/benchmarks.md, keeping the others.

Only the targets made for it write into docs/ (`make bench`, `make manual` set
ANCHANG_WRITE_DOCS=1): an ordinary test run leaves the work tree as it found it, and
what it measured goes to build/docs-preview/ instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITE_DOCS = os.environ.get("ANCHANG_WRITE_DOCS") == "1"
DOCS = ROOT / "docs" if WRITE_DOCS else ROOT / "build" / "docs-preview"
BENCHMARKS = DOCS / "benchmarks.md"
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
