"""End to end: the real edge agent process, a real Mosquitto with the generated ACL, the
cloud sync consumer and PostgreSQL. A visit must arrive exactly once whatever fails."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from cloud.sync.models import SiteLink
from shared.timeutil import utcnow
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration


def visits(engine: Engine) -> list[Visit]:
    with Session(engine) as s:
        return list(s.exec(select(Visit)).all())


@pytest.fixture
def edge_factory(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]
                 ) -> Iterator[Callable[..., EdgeProcess]]:
    made: list[EdgeProcess] = []

    def make(**extra: str) -> EdgeProcess:
        edge = EdgeProcess(tmp_path / f"edge{len(made)}", sites[0], broker.port, **extra)
        made.append(edge)
        return edge

    yield make
    for edge in made:
        edge.stop()


def visit_body(site: ProvisionedSite, phone: str, consultant_id: int) -> dict[str, object]:
    return {"project_id": site.project_id, "phone": phone, "name": "陈先生", "party_size": 2,
            "intent": "三房", "consultant_id": consultant_id}


def test_visit_recorded_with_the_broker_down_arrives_exactly_once(
    engine: Engine, settings: CloudSettings, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], consultant_id: int,
    edge_factory: Callable[..., EdgeProcess],
) -> None:
    a = sites[0]
    edge = edge_factory()
    edge.start()
    edge.wait_consultant(consultant_id)
    broker.stop()
    response = edge.register(visit_body(a, "+86 138-1234-5678", consultant_id))
    assert response.status_code in (200, 201), response.text
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["cloud_link"] == "offline",
             what="the kiosk to report the cloud unreachable")
    assert visits(engine) == []
    broker.start()
    wait_for(lambda: len(visits(engine)) == 1, timeout=30, what="the visit in the cloud")
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
             what="the edge outbox to drain")
    # A restart resends nothing the cloud acknowledged, and nothing doubles.
    edge.stop()
    edge.start()
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["cloud_link"] == "online",
             what="reconnect")
    (visit,) = visits(engine)
    assert visit.consultant_id == consultant_id and visit.is_first_visit
    with Session(engine) as s:
        customer = s.exec(select(Customer)).one()
        synced = s.exec(select(AuditLog).where(AuditLog.action == "sync.events_applied")).all()
    assert "13812345678" not in customer.phone_enc
    assert customer.phone_bidx == settings.blind_index.phone("13812345678")
    assert customer.phone_masked == "138****5678" and customer.owner_id == consultant_id
    assert [row.detail["visits"] for row in synced] == [[visit.id]]
    assert synced[0].actor == f"site:{a.site_id}" and synced[0].object_id == a.site_id


@pytest.mark.parametrize("crash_at", ["after_outbox_commit", "after_publish"])
def test_kill_9_of_the_edge_mid_sync_loses_and_doubles_nothing(
    engine: Engine, consumer: SyncConsumer, sites: tuple[ProvisionedSite, ...],
    consultant_id: int, edge_factory: Callable[..., EdgeProcess], crash_at: str,
) -> None:
    a = sites[0]
    edge = edge_factory()
    edge.start(crash_at=crash_at)
    edge.wait_consultant(consultant_id)
    with contextlib.suppress(httpx.HTTPError):  # the process dies under the request
        edge.register(visit_body(a, "13912345678", consultant_id))
    assert edge.exit_code() == -9, "the crash hook did not fire"
    edge.start()
    wait_for(lambda: len(visits(engine)) == 1, timeout=30, what="the visit in the cloud")
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
             what="the edge outbox to drain")
    assert len(visits(engine)) == 1
    today = edge.get("/api/v1/kiosk/visits").json()
    assert len(today) == 1 and today[0]["phone_masked"] == "139****5678"


def test_edge_clock_two_hours_slow_keeps_a_sane_time_and_reports_the_skew(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], consultant_id: int,
    edge_factory: Callable[..., EdgeProcess],
) -> None:
    a = sites[0]
    edge = edge_factory()
    edge.start(clock_offset="-2h")
    edge.wait_consultant(consultant_id)
    broker.stop()
    registered_at = utcnow()
    response = edge.register(visit_body(a, "13712345678", consultant_id))
    assert response.status_code in (200, 201), response.text
    broker.start()
    wait_for(lambda: len(visits(engine)) == 1, timeout=30, what="the visit in the cloud")
    (visit,) = visits(engine)
    assert abs((visit.occurred_at - registered_at).total_seconds()) < 60
    assert abs((visit.edge_occurred_at - (registered_at - timedelta(hours=2)))
               .total_seconds()) < 60
    assert visit.time_corrected
    with Session(engine) as s:
        link = s.get(SiteLink, a.site_id)
        alarms = s.exec(select(func.count()).select_from(AuditLog)
                        .where(AuditLog.action == "sync.clock_skew")).one()
    assert link is not None and link.clock_skew_seconds is not None
    assert abs(link.clock_skew_seconds + 7200) < 60 and link.clock_skew_alarm
    assert alarms == 1


def test_replayed_kiosk_request_with_the_same_idempotency_key_is_one_visit(
    engine: Engine, consumer: SyncConsumer, sites: tuple[ProvisionedSite, ...],
    consultant_id: int, edge_factory: Callable[..., EdgeProcess],
) -> None:
    a = sites[0]
    edge = edge_factory()
    edge.start()
    edge.wait_consultant(consultant_id)
    key = str(uuid.uuid4())
    first = edge.register(visit_body(a, "13612345678", consultant_id), key=key)
    again = edge.register(visit_body(a, "13612345678", consultant_id), key=key)
    assert first.status_code in (200, 201) and again.status_code in (200, 201)
    assert first.json()["id"] == again.json()["id"]
    wait_for(lambda: len(visits(engine)) == 1, timeout=30, what="the visit in the cloud")
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
             what="the edge outbox to drain")
    assert len(visits(engine)) == 1
