"""The restore drill (issue #19 item 9): `anchang db backup`, more writes, `anchang db
restore` while an appliance holds acks for events written after the backup. The restore
starts a new down-feed generation; the appliance finds the cloud behind in a fresh
answer, resends from the rows it retained, and resyncs its down-feed. Nothing is lost,
nothing doubled, and the audit chain verifies. Each test has a database of its own: a
restore replaces the whole database."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cloud.audit import service as audit_service
from cloud.audit.chain import verify_chain
from cloud.audit.models import AuditLog
from cloud.cli import app as anchang
from cloud.migrate import alembic_config, upgrade
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from tests.conftest import cloud_env, make_settings
from tests.integration.conftest import ProvisionedSite, consumer_settings
from tests.integration.edge_process import EdgeProcess, edge_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for
from tests.services import REDIS_URL, require, scratch_database, unavailable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _fresh_database(revision: str = "head") -> Iterator[str]:
    with scratch_database("anchang_restore_") as url:
        upgrade(url, revision)
        yield url


# These replace the session-wide database of tests/conftest.py for this module only.
@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _fresh_database()


@pytest.fixture
def settings(pg_url: str) -> CloudSettings:
    require("Redis", "127.0.0.1", 6379)
    return make_settings(pg_url, redis_url=REDIS_URL,
                         redis_prefix=f"anchang-test-{uuid.uuid4().hex[:10]}:")


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    eng = create_engine(pg_url)
    yield eng
    eng.dispose()


def cli(settings: CloudSettings) -> CliRunner:
    if shutil.which("pg_dump") is None:
        unavailable("pg_dump is missing (Debian's postgresql-client)")
    return CliRunner(env={
        **cloud_env(settings),
    })


def back_up(settings: CloudSettings, out: Path) -> Path:
    result = cli(settings).invoke(anchang, ["db", "backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    [dump] = out.glob("*.dump")
    return dump


def in_cloud(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(Visit.id)).all())


def actions(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog.action).order_by(col(AuditLog.id))).all())


def generation(engine: Engine, site_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT feed_generation FROM site_link WHERE site_id = :s"),
                                {"s": site_id}).scalar_one())


def test_a_cloud_restored_from_an_older_backup_loses_nothing(
    engine: Engine, settings: CloudSettings, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], tmp_path: Path,
) -> None:
    site = sites[0]
    consumer = SyncConsumer(consumer_settings(settings, broker), engine)
    consumer.start()
    assert consumer.wait_connected()
    edge = EdgeProcess(tmp_path / "edge", site, broker.port)
    try:
        edge.start()
        edge.wait_projects()
        before = {edge.register({"project_id": site.project_id, "phone": f"1380000000{n}",
                                 "party_size": 1}).json()["id"] for n in range(5)}
        wait_for(lambda: in_cloud(engine) == before, timeout=30, what="the first five")
        dump = back_up(settings, tmp_path / "backups")
        manifest = json.loads(dump.with_suffix(".json").read_text())
        after = {edge.register({"project_id": site.project_id, "phone": f"1390000000{n}",
                                "party_size": 1}).json()["id"] for n in range(5)}
        with Session(engine) as s:
            audit_service.record(s, action="test.after_backup", actor="test")
            s.commit()
        wait_for(lambda: in_cloud(engine) == before | after, timeout=30, what="all ten")
        wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
                 timeout=30, what="the edge acked and released all ten")
        old_generation = generation(engine, site.site_id)

        # The disaster: the database goes back to the backup, by the documented procedure
        # (docs/operations.md section 8): stop the consumers, then `anchang db restore`.
        consumer.stop()
        engine.dispose()
        restored = cli(settings).invoke(anchang, ["db", "restore", str(dump), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert "OK：审计日志哈希链完整" in restored.output
        assert in_cloud(engine) == before  # the five after the backup are gone
        trail = actions(engine)
        assert "test.after_backup" not in trail
        assert trail[-2:] == ["sync.feed_generation", "db.restore"]
        with Session(engine) as s:
            assert verify_chain(s, keys=settings.chain_keys).ok
            head = s.get(AuditLog, manifest["audit_head"]["id"])
            assert head is not None and head.hash == manifest["audit_head"]["hash"]
        assert generation(engine, site.site_id) != old_generation

        consumer = SyncConsumer(consumer_settings(settings, broker), engine)
        consumer.start()
        assert consumer.wait_connected()
        wait_for(lambda: in_cloud(engine) == before | after, timeout=60,
                 what="the appliance's retained rows resent")
        with Session(engine) as s:
            behind = s.exec(select(AuditLog).where(AuditLog.action == "sync.cloud_behind")).all()
            visits = s.exec(select(Visit)).all()
            assert verify_chain(s, keys=settings.chain_keys).ok
        assert behind and len(visits) == 10  # alarmed, and each visit once
        new_generation = generation(engine, site.site_id)

        def edge_generation() -> str | None:
            with sqlite3.connect(edge_settings(edge).database_path) as db:
                row = db.execute("SELECT down_generation FROM sync_state").fetchone()
                return None if row is None else str(row[0])

        wait_for(lambda: edge_generation() == new_generation, timeout=30,
                 what="the appliance resynced its down-feed")
    finally:
        edge.stop()
        consumer.stop()


def test_a_tampered_or_unconfirmed_backup_is_refused(
    engine: Engine, settings: CloudSettings, tmp_path: Path,
) -> None:
    with Session(engine) as s:
        audit_service.record(s, action="test.seed", actor="test")
        s.commit()
    dump = back_up(settings, tmp_path / "backups")
    with Session(engine) as s:
        audit_service.record(s, action="test.after_backup", actor="test")
        s.commit()
    engine.dispose()
    trail = actions(engine)

    unconfirmed = cli(settings).invoke(anchang, ["db", "restore", str(dump)])
    assert unconfirmed.exit_code == 1 and "--yes" in unconfirmed.output

    tampered = tmp_path / "tampered" / dump.name
    tampered.parent.mkdir()
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0xFF
    tampered.write_bytes(bytes(content))
    shutil.copy(dump.with_suffix(".json"), tampered.with_suffix(".json"))
    refused = cli(settings).invoke(anchang, ["db", "restore", str(tampered), "--yes"])
    assert refused.exit_code == 2 and "SHA-256 与清单不符" in refused.output

    tampered.with_suffix(".json").unlink()
    no_manifest = cli(settings).invoke(anchang, ["db", "restore", str(tampered), "--yes"])
    assert no_manifest.exit_code == 2 and "缺少备份清单" in no_manifest.output
    assert actions(engine) == trail  # nothing was touched


def test_a_restore_refuses_while_others_use_the_database(
    engine: Engine, settings: CloudSettings, tmp_path: Path,
) -> None:
    dump = back_up(settings, tmp_path / "backups")
    with engine.connect():  # the API or a consumer still running
        busy = cli(settings).invoke(anchang, ["db", "restore", str(dump), "--yes"])
    assert busy.exit_code == 2 and "请先停止 API" in busy.output


def test_a_missing_or_too_old_pg_dump_is_refused_clearly(
    settings: CloudSettings, tmp_path: Path,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runner = cli(settings)
    missing = runner.invoke(anchang, ["db", "backup", "--out", str(tmp_path / "b")],
                            env={"PATH": str(bin_dir)})
    assert missing.exit_code == 2 and "找不到 pg_dump" in missing.output
    old = bin_dir / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    too_old = runner.invoke(anchang, ["db", "backup", "--out", str(tmp_path / "b")],
                            env={"PATH": str(bin_dir)})
    assert too_old.exit_code == 2 and "9.6 低于数据库服务器的主版本" in too_old.output
    assert not (tmp_path / "b").exists() or not list((tmp_path / "b").iterdir())


def test_a_backup_of_an_older_release_is_restored_and_migrated_to_head(tmp_path: Path) -> None:
    """A table a newer migration added must not survive the restore, or the upgrade after
    it would fail on it."""
    databases = _fresh_database("0006_sync_protocol_2")
    url = next(databases)
    try:
        settings = make_settings(url)
        dump = back_up(settings, tmp_path / "backups")
        assert json.loads(dump.with_suffix(".json").read_text())["revision"] == \
            "0006_sync_protocol_2"
        upgrade(url, cipher=settings.cipher)  # the new release ran on the database
        restored = cli(settings).invoke(anchang, ["db", "restore", str(dump), "--yes"])
        assert restored.exit_code == 0, restored.output
        engine = create_engine(url)
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
        assert revision == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    finally:
        next(databases, None)
