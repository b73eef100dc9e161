"""Database privileges of the application's role: everything it needs, and on the audit
log only SELECT and INSERT — append-only by grant, with the trigger as a second guard."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Engine

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def app_role_statements(role: str) -> list[str]:
    if not _ROLE.fullmatch(role):
        raise ValueError("role names are lower-case letters, digits and _")
    return [
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        f'REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM "{role}"',
        # Retention deletes only through this function, and only rows past 180 days.
        f'GRANT EXECUTE ON FUNCTION audit_log_prune(integer, bigint) TO "{role}"',
        f'REVOKE ALL ON alembic_version FROM "{role}"',
        f'GRANT SELECT ON alembic_version TO "{role}"',
    ]


def grant_app_role(engine: Engine, role: str) -> list[str]:
    statements = app_role_statements(role)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    return statements
