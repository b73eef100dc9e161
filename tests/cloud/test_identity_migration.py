"""The 0002 migration builds exactly the identity and audit tables the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import cloud.models  # noqa: F401  (registers every table)

OWN_TABLES = frozenset(
    {"app_user", "user_role", "user_scope", "auth_session", "password_history", "audit_log"}
)


def _table_of(diff: Any) -> str | None:
    op = diff[0] if isinstance(diff, list) else diff
    for item in op[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name and name in OWN_TABLES:
            return str(name)
        if isinstance(item, str) and item in OWN_TABLES:
            return item
    return None


def test_models_and_migration_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, SQLModel.metadata)

    assert set(inspect(engine).get_table_names()) >= OWN_TABLES
    assert [d for d in diffs if _table_of(d) in OWN_TABLES] == []


def test_the_append_only_triggers_exist(engine: Engine) -> None:
    with engine.connect() as conn:
        triggers = set(conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND NOT tgisinternal"
        )).scalars())
    assert triggers == {"audit_log_no_update_delete", "audit_log_no_truncate"}
