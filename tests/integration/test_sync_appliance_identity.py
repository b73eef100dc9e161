"""An appliance's identity over time, with real agent processes, Mosquitto, the consumer
and PostgreSQL: a re-imaged appliance (a fresh store, seqs from 1) is refused by name until
an operator re-enrols the site — then nothing it recorded is lost, and nothing of the old
store is overwritten; a cloned appliance (two agents, one credential, one store) raises
the twin alarm and the newer one is refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Visit
from cloud.sync import identity
from cloud.sync.consumer import SyncConsumer
from cloud.sync.models import SiteLink, SyncEvent
from cloud.sync.service import lock_link
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def edges() -> Iterator[list[EdgeProcess]]:
    started: list[EdgeProcess] = []
    yield started
    for edge in started:
        edge.stop()


def started(edge: EdgeProcess) -> None:
    """Running, and knowing the site's projects (the down-feed works whatever the epoch)."""
    edge.start()
    edge.wait_projects()


def visit(edge: EdgeProcess, site: ProvisionedSite, phone: str) -> str:
    answer = edge.register({"project_id": site.project_id, "phone": phone, "party_size": 1})
    assert answer.status_code == 201, answer.text
    visit_id: str = answer.json()["id"]
    return visit_id


def in_cloud(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(Visit.id)).all())


def audited(engine: Engine, action: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)).all())


def sync_state(edge: EdgeProcess) -> Any:
    return httpx.get(edge.url + "/readyz", timeout=5).json()["sync"]


def test_a_re_imaged_appliance_is_refused_until_the_site_is_re_enrolled(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], tmp_path: Path, edges: list[EdgeProcess],
) -> None:
    site = sites[0]
    old = EdgeProcess(tmp_path / "old", site, broker.port)
    edges.append(old)
    started(old)
    first = {visit(old, site, f"1380000000{n}") for n in range(3)}
    wait_for(lambda: in_cloud(engine) == first, timeout=30, what="the old store's visits")
    old.stop()

    fresh = EdgeProcess(tmp_path / "fresh", site, broker.port)  # a new card, a new image
    edges.append(fresh)
    started(fresh)
    later = {visit(fresh, site, f"1390000000{n}") for n in range(2)}  # seqs 1 and 2 again
    wait_for(lambda: sync_state(fresh) == "epoch_refused", timeout=30,
             what="the appliance told it is refused")
    assert in_cloud(engine) == first  # not dropped as duplicates of seqs 1–2: held back
    assert fresh.get("/api/v1/kiosk/status").json()["cloud_link"] == "refused"
    assert audited(engine, "sync.epoch_refused")

    with Session(engine) as s:  # `anchang site re-enrol site-a`
        identity.allow_reenrol(s, lock_link(s, site.site_id), actor="cli")
        s.commit()
    wait_for(lambda: in_cloud(engine) == first | later, timeout=30,
             what="the new store's visits, once re-enrolled")
    wait_for(lambda: sync_state(fresh) == "ok", timeout=15, what="accepted")
    with Session(engine) as s:
        epochs = s.exec(select(SyncEvent.epoch, SyncEvent.seq)
                        .order_by(col(SyncEvent.id))).all()
    assert len({e for e, _ in epochs}) == 2 and sorted(q for _, q in epochs) == [1, 1, 2, 2, 3]
    assert len(audited(engine, "sync.epoch_changed")) == 1


def test_a_cloned_appliance_raises_the_twin_alarm_and_the_newer_one_is_refused(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], tmp_path: Path, edges: list[EdgeProcess],
) -> None:
    site = sites[0]
    original = EdgeProcess(tmp_path / "original", site, broker.port)
    edges.append(original)
    started(original)
    before = {visit(original, site, f"1370000000{n}") for n in range(2)}
    wait_for(lambda: in_cloud(engine) == before, timeout=30, what="the original's visits")
    original.stop()
    clone = EdgeProcess(tmp_path / "clone", site, broker.port)  # its card copied
    clone.env["ANCHANG_EDGE_DATA_KEYS"] = original.env["ANCHANG_EDGE_DATA_KEYS"]
    for name in ("edge.db", "edge.db-wal", "edge.db-shm"):
        if (tmp_path / "original" / name).exists():
            shutil.copy(tmp_path / "original" / name, tmp_path / "clone" / name)
    edges.append(clone)
    started(original)
    wait_for(lambda: sync_state(original) == "ok", timeout=15, what="the original online")
    started(clone)  # one credential, one store, two agents: the broker kicks them in turns
    wait_for(lambda: audited(engine, "sync.twin_detected"), timeout=60, what="the twin alarm")
    with Session(engine) as s:
        link = s.get(SiteLink, site.site_id)
        assert link is not None and link.twin_alarm
        refused = link.refused_instance
    assert refused is not None
    # The original's new visit arrives; the newer agent's does not (it is told so).
    kept = visit(original, site, "13600000001")
    visit(clone, site, "13600000002")
    wait_for(lambda: kept in in_cloud(engine), timeout=60, what="the kept agent's visit")
    wait_for(lambda: sync_state(clone) == "instance_refused", timeout=60,
             what="the clone told it is refused")
    assert in_cloud(engine) == before | {kept}
