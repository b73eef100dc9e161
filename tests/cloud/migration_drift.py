"""What the migrated database and the models disagree on, for some tables: the check
each domain's migration test makes (other domains' known differences stay out of it)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import cloud.models  # noqa: F401  (registers every table)


def drift(engine: Engine, tables: Collection[str]) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, SQLModel.metadata)
    return [d for d in diffs if _table_of(d, tables) in tables]


def _table_of(diff: Any, tables: Collection[str]) -> str | None:
    op = diff[0] if isinstance(diff, list) else diff  # modifications come as a list
    for item in op[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name and name in tables:
            return str(name)
        if isinstance(item, str) and item in tables:
            return item
    return None
