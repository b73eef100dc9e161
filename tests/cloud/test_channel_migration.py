"""Migration 0014_channel builds the channel tables exactly as the models declare them."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import cloud.models  # noqa: F401  (registers every table)

CHANNEL_TABLES = frozenset({"channel_agency", "channel_broker", "channel_rule_version",
                            "channel_referral"})


def _table_of(diff: Any) -> str | None:
    if isinstance(diff, list):  # modifications come as a list of tuples
        return _table_of(diff[0])
    for item in diff[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None:
            return str(table.name)
        if name in CHANNEL_TABLES:
            return str(name)
        if isinstance(item, str) and item in CHANNEL_TABLES:
            return item
    return None


def test_models_and_migration_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, SQLModel.metadata)
    assert [d for d in diffs if _table_of(d) in CHANNEL_TABLES] == []
