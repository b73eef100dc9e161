"""Every column that holds personal data is in docs/personal-data.md with its purpose
(baseline: PIPL, collect only the listed fields), and every row there still exists."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import cloud.models  # noqa: F401  (registers every cloud table)
import edge_agent.cameras.models  # (the edge's camera table)
import edge_agent.faces.models  # noqa: F401  (the edge's face tables)
from edge_agent.store.models.base import EdgeModel

INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "personal-data.md"
PERSONAL = re.compile(r"(_enc|_bidx|_masked)$|^(ip|user_agent|display_name)$")
ROW = re.compile(r"^\| (cloud|edge) `(\w+)\.(\w+)` \|")


def _columns(metadata: MetaData) -> set[tuple[str, str]]:
    return {(t.name, c.name) for t in metadata.sorted_tables for c in t.columns}


def _schemas() -> dict[str, set[tuple[str, str]]]:
    return {"cloud": _columns(SQLModel.metadata), "edge": _columns(EdgeModel.metadata)}


def _documented() -> set[tuple[str, str, str]]:
    rows = (ROW.match(line) for line in INVENTORY.read_text(encoding="utf-8").splitlines())
    return {(m[1], m[2], m[3]) for m in rows if m}


def test_every_personal_column_is_listed_with_its_purpose() -> None:
    personal = {(side, table, column) for side, columns in _schemas().items()
                for table, column in columns if PERSONAL.search(column)}
    missing = sorted(personal - _documented())
    assert not missing, f"add these columns to docs/personal-data.md: {missing}"


def test_every_listed_column_exists() -> None:
    schemas = _schemas()
    stale = sorted(row for row in _documented() if row[1:] not in schemas[row[0]])
    assert not stale, f"docs/personal-data.md lists columns that no longer exist: {stale}"
