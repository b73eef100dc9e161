"""Edge sessions follow the cloud, end to end: the real cloud routes on PostgreSQL, the
cloud sync consumer, a real Mosquitto with the generated ACL and the real edge agent
process. A logout or a password change at the cloud ends the consultant's edge token on
the appliance within one down-feed poll and a round trip; the kiosk's look-ups reach the
cloud's audit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.sync.consumer import SyncConsumer
from tests.integration.conftest import CONSULTANT_PASSWORD, ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration
DOWN_POLL_SECONDS = 1.0
# One poll, then the batch's round trip through the broker and the cloud; the slack is
# for a loaded test machine, not for the protocol.
BOUND_SECONDS = DOWN_POLL_SECONDS + 9.0


@pytest.fixture
def edge(tmp_path: Path, broker: Mosquitto, sites: tuple[ProvisionedSite, ...],
         consultant_id: int) -> Iterator[EdgeProcess]:
    process = EdgeProcess(tmp_path / "edge", sites[0], broker.port,
                          down_poll_seconds=str(DOWN_POLL_SECONDS))
    process.start()
    process.wait_consultant(consultant_id)
    yield process
    process.stop()


def sign_in(client: TestClient, site_id: str) -> tuple[dict[str, str], str]:
    """(cloud bearer header, this site's edge token) of a fresh cloud login."""
    client.cookies.clear()
    response = client.post("/api/v1/auth/login",
                           json={"username": "wanglei", "password": CONSULTANT_PASSWORD})
    assert response.status_code == 200, response.text
    auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
    tokens = client.post("/api/v1/auth/edge-token", params={"site_id": site_id}, headers=auth)
    assert tokens.status_code == 200, tokens.text
    return auth, str(tokens.json()["tokens"][0]["token"])


def on_edge(edge: EdgeProcess, token: str) -> httpx.Response:
    return httpx.get(edge.url + "/api/v1/staff/customers", timeout=10,
                     headers={"Authorization": f"Bearer {token}"})


def refused_within(edge: EdgeProcess, token: str) -> float:
    def refused() -> httpx.Response | None:
        answer = on_edge(edge, token)
        return answer if answer.status_code == 401 else None

    started = time.monotonic()
    answer = wait_for(refused, timeout=30, what="the edge refusing the revoked token")
    assert answer.json()["code"] == "staff_token_revoked"
    return time.monotonic() - started


def test_logout_and_password_change_at_the_cloud_end_edge_tokens_within_the_bound(
    consumer: SyncConsumer, client: TestClient, sites: tuple[ProvisionedSite, ...],
    edge: EdgeProcess,
) -> None:
    site_id = sites[0].site_id
    auth, token = sign_in(client, site_id)
    _, other_phone = sign_in(client, site_id)  # the same consultant on a second phone
    assert on_edge(edge, token).status_code == 200
    assert on_edge(edge, other_phone).status_code == 200

    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert refused_within(edge, token) < BOUND_SECONDS
    assert on_edge(edge, other_phone).status_code == 200  # that session did not log out

    auth, current = sign_in(client, site_id)
    changed = client.post("/api/v1/auth/password", headers=auth,
                          json={"old_password": CONSULTANT_PASSWORD,
                                "new_password": "Lobby&Desk2027"})
    assert changed.status_code == 204
    # Every edge token issued before the change ends, this phone's too.
    assert refused_within(edge, other_phone) < BOUND_SECONDS
    assert on_edge(edge, current).status_code == 401


def test_kiosk_lookups_reach_the_cloud_audit_log(
    engine: Engine, consumer: SyncConsumer, sites: tuple[ProvisionedSite, ...],
    edge: EdgeProcess,
) -> None:
    site = sites[0]
    looked = edge.get(f"/api/v1/kiosk/customers/lookup?phone=13812345678"
                      f"&project_id={site.project_id}")
    assert looked.status_code == 200, looked.text

    def audited() -> AuditLog | None:
        with Session(engine) as s:
            return s.exec(select(AuditLog).where(AuditLog.action == "customer.lookup")).first()

    row = wait_for(audited, timeout=30, what="the look-up in the cloud's audit log")
    assert row.actor == f"kiosk:{site.site_id}" and row.ip == "127.0.0.1"
    assert row.detail["phone_masked"] == "138****5678" and row.detail["known"] is False
    assert "13812345678" not in str(row.detail)
