"""来电登记 end to end: the real edge agent process, a real Mosquitto with the generated
ACL, the cloud sync consumer and PostgreSQL. A call registered at the kiosk with the
broker down — and retried — reaches the cloud once, its number encrypted with a blind
index; a consultant's own call from the phone app carries them as who answered."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.reception.models import CallRecord
from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from shared.timeutil import shanghai_date
from tests.integration.conftest import ProvisionedSite
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for
from tests.integration.test_follow_up_sync import backlog, cloud_auth, edge, edge_token

pytestmark = pytest.mark.integration
__all__ = ["cloud_auth", "edge"]  # fixtures shared with the follow-up sync test


def post_call(edge: EdgeProcess, body: dict[str, Any], token: str | None = None,
              path: str = "/api/v1/kiosk/calls") -> httpx.Response:
    return httpx.post(edge.url + path, json=body, timeout=10, headers={
        "Authorization": f"Bearer {token or edge.token}", "Idempotency-Key": body["id"]})


def calls(engine: Engine) -> list[CallRecord]:
    with Session(engine) as s:
        return list(s.exec(select(CallRecord)).all())


def test_a_call_registered_offline_arrives_once_encrypted(
    engine: Engine, settings: CloudSettings, consumer: SyncConsumer, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], consultant_id: int, edge: EdgeProcess,
) -> None:
    site = sites[0]
    broker.stop()
    body = {"id": str(uuid.uuid4()), "phone": "+86 138-1234-5678", "name": "陈先生",
            "awareness": "outdoor_ad", "project_id": site.project_id,
            "consultant_id": consultant_id}
    first, retry = post_call(edge, body), post_call(edge, body)  # the answer was lost
    assert (first.status_code, retry.status_code) == (201, 200), first.text
    assert first.json()["phone_masked"] == "138****5678" == retry.json()["phone_masked"]
    assert retry.json()["seq"] == first.json()["seq"]
    assert calls(engine) == []
    broker.start()
    wait_for(lambda: len(calls(engine)) == 1, timeout=30, what="the call in the cloud")
    wait_for(lambda: backlog(edge) == 0, timeout=30, what="the edge outbox to drain")
    (row,) = calls(engine)
    assert (row.id, row.site_id, row.project_id, row.consultant_id, row.awareness) == (
        body["id"], site.site_id, site.project_id, consultant_id, "outdoor_ad")
    assert "13812345678" not in row.phone_enc and row.phone_masked == "138****5678"
    assert settings.cipher.decrypt(row.phone_enc, context="call.phone") == "13812345678"
    assert row.phone_bidx == settings.blind_index.phone("13812345678")
    assert row.name_enc and settings.cipher.decrypt(row.name_enc, context="call.name") == "陈先生"
    assert row.call_date == shanghai_date(row.occurred_at)
    assert row.recorded_by.startswith("kiosk:")


def test_a_consultant_registers_the_call_they_answered(
    engine: Engine, consumer: SyncConsumer, client: TestClient, cloud_auth: dict[str, str],
    sites: tuple[ProvisionedSite, ...], consultant_id: int, edge: EdgeProcess,
) -> None:
    site = sites[0]
    token = edge_token(client, cloud_auth, site.site_id)
    # Whoever the body names, the phone's consultant answered.
    body = {"id": str(uuid.uuid4()), "phone": "13900001111", "project_id": site.project_id,
            "consultant_id": 999}
    answer = post_call(edge, body, token, "/api/v1/staff/calls")
    assert answer.status_code == 201, answer.text
    assert answer.json()["consultant_id"] == consultant_id
    wait_for(lambda: len(calls(engine)) == 1, timeout=30, what="the call in the cloud")
    (row,) = calls(engine)
    assert (row.consultant_id, row.recorded_by, row.awareness, row.name_enc) == (
        consultant_id, f"user:{consultant_id}", None, None)
    mine = httpx.get(edge.url + "/api/v1/staff/calls/today", timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert [c["id"] for c in mine.json()] == [body["id"]]
