"""`anchang db backup` / `db restore` on the embedded SQLite backend (the demo): the same
layout as PostgreSQL's (dump + manifest), made with SQLite's online backup API; and how
the PostgreSQL tools are called. The PostgreSQL drill is
tests/integration/test_sync_restore_drill.py."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cloud.audit import service as audit_service
from cloud.audit.chain import verify_chain
from cloud.audit.models import AuditLog
from cloud.backup import _missing_heads, backup
from cloud.cli import app as anchang
from cloud.db import make_engine
from cloud.migrate import upgrade
from cloud.pgtools import libpq
from cloud.settings import CloudSettings
from tests.conftest import cloud_env, make_settings


def _actions(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as s:
        found = list(s.exec(select(AuditLog.action).order_by(col(AuditLog.id))).all())
    engine.dispose()
    return found


def _record(url: str, action: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        audit_service.record(s, action=action, actor="test")
        s.commit()
    engine.dispose()


def test_the_demo_database_is_backed_up_and_restored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    settings = make_settings(url)
    runner = CliRunner(env={
        **cloud_env(settings),
    })
    _record(url, "test.seed")

    made = runner.invoke(anchang, ["db", "backup", "--out", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    [dump] = (tmp_path / "backups").glob("*.sqlite3")
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert manifest["backend"] == "sqlite" and manifest["audit_head"]["id"] == 1
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # it holds every customer record
    assert not list((tmp_path / "backups").glob("*.partial"))
    _record(url, "test.after_backup")

    restored = runner.invoke(anchang, ["db", "restore", str(dump), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "OK：审计日志哈希链完整" in restored.output
    assert _actions(url) == ["test.seed", "sync.feed_generation", "db.restore"]


def test_the_password_reaches_the_pg_tools_through_the_environment_only() -> None:
    uri, env = libpq("postgresql+psycopg2://anchang:s3cr%40t@db.example:6432/anchang"
                     "?sslmode=verify-full")
    assert uri == "postgresql://anchang@db.example:6432/anchang?sslmode=verify-full"
    assert env["PGPASSWORD"] == "s3cr@t"  # `ps` shows arguments, not the environment


def test_the_manifest_names_every_shards_head(
    db: Session, engine: Engine, settings: CloudSettings, tmp_path: Path
) -> None:
    """A chain verifies just as well with its newest rows cut off, and the newest row of
    all says nothing about the other shards: the manifest holds each shard's head."""
    for shard in (0, 1, 2):
        for i in range(2):
            audit_service.record(db, action="test.seed", actor="test",
                                 object_id=f"{shard}-{i}", shard=shard)
        db.commit()
    manifest = backup(settings, tmp_path).data
    heads = {h["shard"]: h["id"] for h in manifest["audit_heads"]}
    assert sorted(heads) == [0, 1, 2]
    assert manifest["audit_head"]["id"] == max(heads.values())

    # A shard's newest row cut off by a superuser: not shard 2, which holds the newest
    # row of all, nor the one `db.backup` chained onto after the manifest was written.
    audited = db.exec(select(AuditLog.shard).where(AuditLog.action == "db.backup")).one()
    cut = min({0, 1} - {audited})
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": heads[cut]})
    db.expire_all()
    assert verify_chain(db, keys=settings.chain_keys).ok  # the chain alone cannot tell
    assert _missing_heads(db, {"audit_head": manifest["audit_head"]}) == []  # nor one head
    assert _missing_heads(db, manifest) == [cut]
