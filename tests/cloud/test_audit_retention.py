"""Audit retention: at least 180 days by setting and by the database itself; rows past it
archived to a JSON-lines file outside the database and deleted, the remaining chain still
verifying from the archive's anchor — on PostgreSQL through the Celery job run eagerly,
and on SQLite."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import ARCHIVE_ACTION, verify_chain
from cloud.audit.models import AuditLog
from cloud.audit.retention import archive_expired
from cloud.db import make_engine
from cloud.jobs.celery_app import TASK_PREFIX, create_celery
from cloud.migrate import upgrade
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.conftest import make_settings


def test_retention_below_the_legal_floor_is_refused() -> None:
    with pytest.raises(ValidationError, match="180"):
        make_settings("sqlite:///:memory:", audit_retention_days=179)
    assert make_settings("sqlite:///:memory:").audit_retention_days == 180


@pytest.fixture
def one_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every transaction in shard 0, as before shards: these tests follow one chain
    (per-shard retention: test_audit_shards.py)."""
    monkeypatch.setattr(audit_service._SHARDS, "count", 1)


def _history(session: Session, monkeypatch: pytest.MonkeyPatch, *, old: int,
             young: int) -> None:
    """`old` rows written 200 days ago, then `young` rows now."""
    clock: list[Callable[[], datetime]] = [lambda: utcnow() - timedelta(days=200)]
    monkeypatch.setattr(audit_service, "utcnow", lambda: clock[0]())
    for i in range(old):
        audit_service.record(session, action="visit.synced", actor="site:a", object_id=str(i))
    session.commit()  # rows join the chain, and take their time, as they commit
    clock[0] = utcnow
    for i in range(young):
        audit_service.record(session, action="visit.synced", actor="site:a", object_id=str(i))
    session.commit()


def _archived(folder: Path) -> tuple[dict[str, object], list[dict[str, object]], str]:
    [file] = folder.glob("audit-archive-*.jsonl")
    header, *rows = (json.loads(line) for line in file.read_text("utf-8").splitlines())
    return header, rows, hashlib.sha256(file.read_bytes()).hexdigest()


def test_the_job_archives_and_deletes_rows_past_retention(
    db: Session, settings: CloudSettings, engine: Engine, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, one_chain: None,
) -> None:
    _history(db, monkeypatch, old=5, young=3)
    first_young = db.exec(select(AuditLog).order_by(col(AuditLog.id)).offset(5)).first()
    assert first_young is not None
    app = create_celery(make_settings(settings.database_url, mode="demo",
                                      audit_archive_dir=str(tmp_path)), engine)

    summary = app.tasks[TASK_PREFIX + "audit.archive_expired"].delay().get()

    assert summary["archived"] == 5
    header, rows, digest = _archived(tmp_path)
    assert header["shard"] == 0
    assert [r["object_id"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert header["through_hash"] == rows[-1]["hash"] == first_young.prev_hash
    db.rollback()
    remaining = db.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert [r.action for r in remaining] == ["visit.synced"] * 3 + [ARCHIVE_ACTION]
    assert remaining[-1].detail["sha256"] == digest
    report = verify_chain(db, keys=settings.chain_keys)
    assert (report.ok, report.checked) == (True, 4)
    # Idempotent: nothing more is old enough.
    assert app.tasks[TASK_PREFIX + "audit.archive_expired"].delay().get() == {
        "archived": 0, "files": []}


def test_deleting_more_than_was_archived_breaks_the_chain(
    db: Session, settings: CloudSettings, engine: Engine, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, one_chain: None,
) -> None:
    _history(db, monkeypatch, old=2, young=3)
    archive_expired(db, make_settings(settings.database_url, audit_archive_dir=str(tmp_path)))
    db.commit()
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)"))
    db.rollback()

    report = verify_chain(db, keys=settings.chain_keys)
    assert report.ok is False
    assert report.reason is not None and "不衔接" in report.reason


def test_the_database_refuses_pruning_rows_younger_than_180_days(
    db: Session, monkeypatch: pytest.MonkeyPatch, one_chain: None,
) -> None:
    _history(db, monkeypatch, old=0, young=2)
    newest = db.exec(select(AuditLog.id).order_by(col(AuditLog.id).desc())).first()
    with pytest.raises(DBAPIError, match="append-only"):
        db.connection().execute(text("SELECT audit_log_prune(0, :i)"), {"i": newest})
    db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.connection().execute(text("DELETE FROM audit_log"))
    db.rollback()


def test_sqlite_archives_old_rows_and_refuses_deleting_young_ones(
    settings: CloudSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            _history(session, monkeypatch, old=3, young=2)
            summary = archive_expired(session, make_settings(
                url, audit_archive_dir=str(tmp_path / "archive")))
            session.commit()
            assert summary["archived"] == 3
            assert verify_chain(session, keys={}).ok
            with pytest.raises(DBAPIError, match="append-only"):
                session.connection().execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()
