"""Reception offline, end to end: the real edge agent process and Mosquitto, the cloud
sync consumer and PostgreSQL. With the broker stopped, consultants check in, one goes to
lunch (补接), another rests (to the tail), visits with their profiles are registered; when
the broker is back the cloud holds the same rota history and the profiles, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.identity import service as identity_service
from cloud.reception.models import RotaEventRecord, VisitProfileRecord
from cloud.sales.models import Visit
from cloud.sync.consumer import SyncConsumer
from tests.integration.conftest import CONSULTANT_PASSWORD, ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...]
         ) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port)
    yield process
    process.stop()


def colleague(engine: Engine, site: ProvisionedSite) -> int:
    with Session(engine) as s:
        user = identity_service.create_user(
            s, username="lina", password=CONSULTANT_PASSWORD, display_name="李娜",
            roles=["consultant"], site_ids=[site.site_id], must_change_password=False,
            actor="test")
        s.commit()
        assert user.id is not None
        return user.id


def rota(edge: EdgeProcess, action: str, body: dict[str, object]) -> dict[str, object]:
    response = httpx.post(f"{edge.url}/api/v1/kiosk/rota/{action}", json=body,
                          headers=edge._headers(), timeout=10)
    assert response.status_code == 200, response.text
    out: dict[str, object] = response.json()
    return out


def test_reception_offline_reconciles_in_the_cloud(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], consultant_id: int, edge: EdgeProcess,
) -> None:
    site, wang = sites[0], consultant_id
    li = colleague(engine, site)
    edge.start()
    edge.wait_projects()
    edge.wait_consultant(wang)
    edge.wait_consultant(li)
    broker.stop()
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["cloud_link"] == "offline",
             what="the kiosk to see the cloud unreachable")
    rota(edge, "check-in", {"consultant_id": wang})
    rota(edge, "check-in", {"consultant_id": li})
    board = rota(edge, "away", {"consultant_id": wang, "reason": "lunch"})
    assert board["next_consultant_id"] == li  # 王 keeps the head but is at lunch
    registered = edge.register({
        "project_id": site.project_id, "phone": "13812345678", "party_size": 2,
        "consultant_id": li, "source": "referral_old_customer",
        "profile": {"gender": "male", "awareness": "friend", "grade": "A",
                    "budget_min": 200, "budget_max": 260, "purpose": "own_use"}})
    assert registered.status_code == 201, registered.text
    assert registered.json()["phone_region"] == "江苏省连云港市"
    board = rota(edge, "back", {"consultant_id": wang})
    assert board["next_consultant_id"] == wang  # 补接
    board = rota(edge, "away", {"consultant_id": li, "reason": "rest"})
    assert [c["id"] for c in board["consultants"] if c["on_duty"]][:2] == [wang, li]
    local = edge.get("/api/v1/kiosk/rota/events").json()
    assert len(local) == 6
    broker.start()
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0, timeout=40,
             what="the edge outbox to drain")
    with Session(engine) as s:
        rows = s.exec(select(RotaEventRecord).order_by(col(RotaEventRecord.event_seq))).all()
        visit = s.exec(select(Visit)).one()
        profile = s.get(VisitProfileRecord, visit.id)
    assert [(r.action, r.consultant_id, r.away_reason) for r in rows] == [
        ("check_in", wang, None), ("check_in", li, None), ("away", wang, "lunch"),
        ("turn_consumed", li, None), ("back", wang, "lunch"), ("away", li, "rest")]
    assert {r.site_id for r in rows} == {site.site_id}
    assert rows[3].visit_id == visit.id and visit.source == "referral_old_customer"
    assert profile is not None and (profile.gender, profile.grade, profile.budget_max) == (
        "male", "A", 260)
    assert profile.consumed_turn is True and profile.phone_region == "江苏省连云港市"
    assert [e["reason"] for e in local][::-1] == [r.reason for r in rows]
