"""The application's database role cannot rewrite the audit log, even with the trigger off;
retention's prune function deletes nothing younger than 180 days for it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session, select

from cloud.audit import service as audit_service
from cloud.audit.models import AuditLog
from cloud.grants import app_role_statements, grant_app_role


def test_app_role_appends_and_reads_but_cannot_rewrite_the_audit_log(
    engine: Engine, pg_url: str, db: Session
) -> None:
    role = f"anchang_app_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        grant_app_role(engine, role)
        app_engine = create_engine(pg_url.replace("postgres@", f"{role}@"))
        with Session(app_engine) as session:
            audit_service.record(session, action="test.append", actor="test")
            session.commit()
            assert session.exec(select(AuditLog)).all()
        with app_engine.connect() as conn:
            for statement in ("UPDATE audit_log SET result = 'success'",
                              "DELETE FROM audit_log", "TRUNCATE audit_log",
                              "ALTER TABLE audit_log DISABLE TRIGGER ALL"):
                with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
                    conn.execute(text(statement))
                conn.rollback()
            # Retention's one way to delete, and only for rows past 180 days.
            with pytest.raises(ProgrammingError, match="append-only"):
                conn.execute(text("SELECT audit_log_prune((SELECT shard FROM audit_log), "
                                  "9223372036854775807)"))
        app_engine.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


def test_role_names_are_checked_before_they_reach_sql() -> None:
    with pytest.raises(ValueError):
        app_role_statements('x"; DROP TABLE audit_log; --')
