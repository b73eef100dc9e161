"""Follow-ups end to end: the consultant's edge token from the real cloud route, the real
edge agent process, a real Mosquitto with the generated ACL, the cloud sync consumer and
PostgreSQL. A follow-up is stored once, whichever way — or both ways — it arrives."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.sales.models import FollowUp, Visit
from cloud.sync.consumer import SyncConsumer
from cloud.sync.models import SyncEvent
from shared.timeutil import utcnow
from tests.integration.conftest import CONSULTANT_PASSWORD, ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...],
         consultant_id: int) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port)
    process.start()
    process.wait_consultant(consultant_id)
    yield process
    process.stop()


@pytest.fixture
def cloud_auth(client: TestClient, consultant_id: int) -> dict[str, str]:
    """The consultant signed in at the real cloud API."""
    response = client.post("/api/v1/auth/login",
                           json={"username": "wanglei", "password": CONSULTANT_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def edge_token(client: TestClient, cloud_auth: dict[str, str], site_id: str) -> str:
    response = client.post("/api/v1/auth/edge-token", params={"site_id": site_id},
                           headers=cloud_auth)
    assert response.status_code == 200, response.text
    token: str = response.json()["tokens"][0]["token"]
    return token


def register_visit(edge: EdgeProcess, site: ProvisionedSite, consultant_id: int,
                   phone: str) -> str:
    response = edge.register({"project_id": site.project_id, "phone": phone, "name": "陈先生",
                              "party_size": 2, "consultant_id": consultant_id})
    assert response.status_code == 201, response.text
    visit_id: str = response.json()["id"]
    return visit_id


def follow_up(visit_id: str, follow_up_id: str | None = None) -> dict[str, Any]:
    return {"id": follow_up_id or str(uuid.uuid4()), "visit_id": visit_id, "kind": "call",
            "reached": True, "note": "电话回访，客户周六再来", "occurred_at": utcnow().isoformat()}


def post_to_edge(edge: EdgeProcess, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(edge.url + "/api/v1/staff/follow-ups", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": body["id"]})


def rows(engine: Engine) -> list[FollowUp]:
    with Session(engine) as s:
        return list(s.exec(select(FollowUp)).all())


def in_cloud(engine: Engine, model: type[Any], key: str) -> bool:
    with Session(engine) as s:
        return s.get(model, key) is not None


def backlog(edge: EdgeProcess) -> int:
    return int(edge.get("/api/v1/kiosk/status").json()["backlog"])


def test_a_follow_up_written_on_the_edge_with_the_broker_down_arrives_once(
    engine: Engine, consumer: SyncConsumer, broker: Mosquitto, client: TestClient,
    cloud_auth: dict[str, str], sites: tuple[ProvisionedSite, ...], consultant_id: int,
    edge: EdgeProcess,
) -> None:
    site = sites[0]
    token = edge_token(client, cloud_auth, site.site_id)
    visit_id = register_visit(edge, site, consultant_id, "13812345678")
    wait_for(lambda: in_cloud(engine, Visit, visit_id), timeout=30, what="the visit in the cloud")

    broker.stop()
    body = follow_up(visit_id)
    first = post_to_edge(edge, token, body)
    retry = post_to_edge(edge, token, body)  # the phone did not see the answer
    assert (first.status_code, retry.status_code) == (201, 200), first.text
    assert rows(engine) == []
    broker.start()
    wait_for(lambda: len(rows(engine)) == 1, timeout=30, what="the follow-up in the cloud")
    wait_for(lambda: backlog(edge) == 0, timeout=30, what="the edge outbox to drain")

    edge.stop()  # a restart resends nothing the cloud acknowledged
    edge.start()
    wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["cloud_link"] == "online",
             timeout=30, what="reconnect")
    [row] = rows(engine)
    assert row.id == body["id"] and row.recorded_via == "edge" and row.visit_id == visit_id
    assert row.consultant_id == consultant_id and row.effective
    # The phone, not knowing, also tries the cloud later: the same row answers.
    late = client.post("/api/v1/follow-ups", json=body,
                       headers={**cloud_auth, "Idempotency-Key": body["id"]})
    assert late.status_code == 200 and late.json()["recorded_via"] == "edge"
    assert len(rows(engine)) == 1


def test_the_same_follow_up_by_the_cloud_route_first_then_by_sync_is_one_row(
    engine: Engine, consumer: SyncConsumer, client: TestClient, cloud_auth: dict[str, str],
    sites: tuple[ProvisionedSite, ...], consultant_id: int, edge: EdgeProcess,
) -> None:
    site = sites[0]
    token = edge_token(client, cloud_auth, site.site_id)
    visit_id = register_visit(edge, site, consultant_id, "13912345678")
    wait_for(lambda: in_cloud(engine, Visit, visit_id), timeout=30, what="the visit in the cloud")

    body = follow_up(visit_id)
    # The office LAN was down: the phone wrote to the cloud directly …
    direct = client.post("/api/v1/follow-ups", json=body,
                         headers={**cloud_auth, "Idempotency-Key": body["id"]})
    assert direct.status_code == 201, direct.text
    # … and the same queued entry later also reached the edge.
    assert post_to_edge(edge, token, body).status_code == 201
    wait_for(lambda: backlog(edge) == 0, timeout=30, what="the edge outbox to drain")

    [row] = rows(engine)
    assert row.id == body["id"] and row.recorded_via == "cloud"
    with Session(engine) as s:
        event = s.exec(select(SyncEvent).where(SyncEvent.type == "followup.recorded")).one()
    assert event.outcome == "merged" and event.detail == {"follow_up_id": body["id"]}


def test_a_follow_up_straight_at_the_cloud_and_a_reveal_on_the_edge_reach_the_other_side(
    engine: Engine, consumer: SyncConsumer, client: TestClient, cloud_auth: dict[str, str],
    sites: tuple[ProvisionedSite, ...], consultant_id: int, edge: EdgeProcess,
) -> None:
    """The appliance learns of an effective follow-up written at the cloud (its 7-day
    clock restarts on the phone too), and a number shown on the appliance is audited in
    the cloud."""
    site = sites[0]
    token = edge_token(client, cloud_auth, site.site_id)
    auth = {"Authorization": f"Bearer {token}"}
    visit_id = register_visit(edge, site, consultant_id, "13612345678")
    wait_for(lambda: in_cloud(engine, Visit, visit_id), timeout=30, what="the visit in the cloud")

    def mine() -> dict[str, Any]:
        customers = httpx.get(edge.url + "/api/v1/staff/customers", headers=auth).json()
        return next(c for c in customers if c["phone_masked"] == "136****5678")

    wait_for(lambda: not mine()["provisional"], timeout=30, what="the cloud's answer")
    before = mine()["last_effective_at"]
    body = follow_up(visit_id)
    direct = client.post("/api/v1/follow-ups", json=body,
                         headers={**cloud_auth, "Idempotency-Key": body["id"]})
    assert direct.status_code == 201, direct.text
    wait_for(lambda: mine()["last_effective_at"] > before, timeout=30,
             what="the follow-up's effect on the appliance")

    shown = httpx.post(edge.url + f"/api/v1/staff/customers/{mine()['key']}/reveal",
                       json={"reason": "电话回访"}, headers=auth)
    assert shown.status_code == 200 and shown.json()["phone"] == "13612345678"

    def reveals() -> list[Any]:
        with Session(engine) as s:
            return list(s.exec(select(AuditLog).where(AuditLog.action == "customer.unmask")))

    wait_for(lambda: len(reveals()) == 1, timeout=30, what="the reveal in the cloud audit")
    [row] = reveals()
    assert row.actor == "wanglei" and row.actor_id == consultant_id
    assert row.detail["via"] == f"site:{site.site_id}"
