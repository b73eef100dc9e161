"""The 0002 migration builds exactly the identity and audit tables the models describe."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from tests.cloud.migration_drift import drift

OWN_TABLES = frozenset(
    {"app_user", "user_role", "user_scope", "auth_session", "password_history", "audit_log"}
)


def test_models_and_migration_agree(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= OWN_TABLES
    assert drift(engine, OWN_TABLES) == []


def test_the_append_only_triggers_exist(engine: Engine) -> None:
    with engine.connect() as conn:
        triggers = set(conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND NOT tgisinternal"
        )).scalars())
    assert triggers == {"audit_log_no_update_delete", "audit_log_no_truncate"}
