"""The restore drill: the cloud's database goes back to an older backup (pg_dump custom
format, pg_restore --clean) while an appliance holds acks for events written after it.
The operator runs the procedure of docs/sync-protocol.md (`anchang sync new-generation`);
the appliance finds the cloud behind in a fresh answer, resends from the rows it retained,
and resyncs its down-feed. Nothing is lost, nothing doubled."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.consumer import SyncConsumer
from tests.integration.conftest import ProvisionedSite, consumer_settings
from tests.integration.edge_process import EdgeProcess, edge_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for
from tests.services import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is missing (Debian's postgresql-client)")
    return found


def pg_args(url: str) -> list[str]:
    parsed = make_url(url)
    return ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres", "-d", parsed.database or ""]


def in_cloud(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(Visit.id)).all())


def test_a_cloud_restored_from_an_older_backup_loses_nothing(
    engine: Engine, settings: CloudSettings, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], tmp_path: Path,
) -> None:
    dump, restore = pg_tool("pg_dump"), pg_tool("pg_restore")
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
        backup = tmp_path / "cloud.dump"
        subprocess.run([dump, "-Fc", "-f", str(backup), *pg_args(settings.database_url)],
                       check=True)
        after = {edge.register({"project_id": site.project_id, "phone": f"1390000000{n}",
                                "party_size": 1}).json()["id"] for n in range(5)}
        wait_for(lambda: in_cloud(engine) == before | after, timeout=30, what="all ten")
        wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
                 timeout=30, what="the edge acked and released all ten")

        # The disaster: the database goes back to the backup.
        consumer.stop()
        engine.dispose()
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        engine.dispose()
        subprocess.run([restore, "--clean", "--if-exists", "--no-owner", "-d",
                        make_url(settings.database_url).database or "",
                        *pg_args(settings.database_url)[:-2], str(backup)], check=True)
        assert in_cloud(engine) == before  # the five after the backup are gone
        with Session(engine) as s:  # the procedure: `anchang sync new-generation`
            feed.new_generation(s, actor="cli")
            s.commit()

        consumer = SyncConsumer(consumer_settings(settings, broker), engine)
        consumer.start()
        assert consumer.wait_connected()
        wait_for(lambda: in_cloud(engine) == before | after, timeout=60,
                 what="the appliance's retained rows resent")
        with Session(engine) as s:
            behind = s.exec(select(AuditLog).where(AuditLog.action == "sync.cloud_behind")).all()
            visits = s.exec(select(Visit)).all()
        assert behind and len(visits) == 10  # alarmed, and each visit once
        # The appliance's down-feed moved to the new generation (it resynced).
        with Session(engine) as s:
            generation = s.exec(text("SELECT feed_generation FROM site_link WHERE site_id = "
                                     ":s").bindparams(s=site.site_id)).one()[0]
        def edge_generation() -> str | None:
            with sqlite3.connect(edge_settings(edge).database_path) as db:
                row = db.execute("SELECT down_generation FROM sync_state").fetchone()
                return None if row is None else str(row[0])

        wait_for(lambda: edge_generation() == generation, timeout=30, what="resynced feed")
    finally:
        edge.stop()
        consumer.stop()
