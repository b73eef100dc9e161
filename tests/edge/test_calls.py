"""来电登记 on the appliance: a call and its `call.recorded` event written together,
idempotent by the device's id, the number encrypted with the site's blind index; the
refusals a kiosk or a phone may meet (problem+json, Chinese); a call the phone queued
keeps when it was saved; an erasure and a new site key reach the calls as they reach
visits."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from edge_agent.calls import service as calls_service
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.sync import OutboxRow
from edge_agent.store.rekey import ensure_site_key
from edge_agent.sync.downlink import apply_batch
from shared.crypto import new_key
from shared.reception_events import CALL_RECORDED, CallDraft
from shared.timeutil import shanghai_date, utcnow
from tests.edge.helpers import KIOSK_TOKEN, settings_like
from tests.edge.seed import batch, consultant, project, seed
from tests.edge.test_erasure import erasure
from tests.edge.test_followups import bearer, read_store, token_for

KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
WANG, LI_INACTIVE, ZHOU = 7, 8, 9
STAFF_CALLS = "/api/v1/staff/calls"
PHONE = "13912345678"


@pytest.fixture
def seeded(edge_settings: EdgeSettings) -> EdgeSettings:
    seed(edge_settings, [project(1, 1, "云栖府"), consultant(2, WANG, "王顾问"),
                         consultant(3, LI_INACTIVE, "李顾问", active=False),
                         consultant(4, ZHOU, "周总", roles=["sales_director"])])
    return edge_settings


@pytest.fixture
def client(seeded: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, sync=False)) as test_client:
        yield test_client


def call(**overrides: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "phone": "139 1234 5678", "name": "陈大文",
            "awareness": "online", "consultant_id": WANG, **overrides}


def post(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None,
         key: str | None = "same", path: str = "/api/v1/kiosk/calls") -> httpx.Response:
    sent = dict(KIOSK if headers is None else headers)
    if key is not None:
        sent["Idempotency-Key"] = body["id"] if key == "same" else key
    response: httpx.Response = client.post(path, json=body, headers=sent)
    return response


def table(settings: EdgeSettings, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute(sql).fetchall()


def test_a_call_and_its_event_are_written_together(client: TestClient,
                                                   seeded: EdgeSettings) -> None:
    body = call()
    first = post(client, body)
    assert first.status_code == 201, first.text
    out = first.json()
    assert (out["phone_masked"], out["name_masked"], out["awareness"], out["consultant_id"],
            out["project_id"]) == ("139****5678", "陈**", "online", WANG, 1)
    again = post(client, {**body, "name": "改过"})
    assert again.status_code == 200 and again.json() == out
    assert table(seeded, "SELECT seq, type FROM outbox") == [(out["seq"], CALL_RECORDED)]

    async def payload(store: Store) -> dict[str, Any]:
        row = await store.read(lambda s: s.get(OutboxRow, out["seq"]))
        assert row is not None
        return outbox.open_payload(seeded.cipher, row)

    sealed = read_store(seeded, payload)
    assert (sealed["call_id"], sealed["phone"], sealed["project_id"], sealed["name"]) == (
        body["id"], PHONE, 1, "陈大文")
    assert sealed["recorded_by"].startswith("kiosk:")
    [(bidx,)] = table(seeded, "SELECT phone_bidx FROM incoming_call")
    assert bidx == seeded.blind_index.phone(PHONE)
    with sqlite3.connect(seeded.database_path) as db:  # nothing readable at rest
        dump = "\n".join(db.iterdump())
    assert PHONE not in dump and "陈大文" not in dump
    listed = client.get("/api/v1/kiosk/calls", headers=KIOSK).json()
    assert [c["id"] for c in listed] == [body["id"]]


@pytest.mark.parametrize(("change", "key", "status", "code"), [
    ({"phone": "12345"}, "same", 422, "invalid_phone"),
    ({"project_id": 99}, "same", 422, "unknown_project"),
    ({"consultant_id": 4242}, "same", 422, "unknown_consultant"),
    ({"consultant_id": LI_INACTIVE}, "same", 422, "consultant_inactive"),
    ({"consultant_id": ZHOU}, "same", 422, "not_call_answerer"),  # a sales director
    ({"awareness": "tv"}, "same", 422, "validation_failed"),
    ({}, None, 422, "idempotency_key_mismatch"),
    ({}, "another-key-1234", 422, "idempotency_key_mismatch"),
])
def test_refusals_say_why_in_chinese_and_write_nothing(
        client: TestClient, seeded: EdgeSettings, change: dict[str, Any], key: str | None,
        status: int, code: str) -> None:
    response = post(client, call(**change), key=key)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == code and any("\u4e00" <= ch <= "\u9fff" for ch in problem["title"])
    assert table(seeded, "SELECT count(*) FROM outbox") == [(0,)]


def test_an_id_is_one_call(client: TestClient, seeded: EdgeSettings) -> None:
    body = call()
    assert post(client, body).status_code == 201
    taken = post(client, {**body, "phone": "13800000000"})
    assert taken.status_code == 409 and taken.json()["code"] == "idempotency_key_reused"
    assert post(client, body, headers={}).status_code == 401
    assert table(seeded, "SELECT count(*) FROM incoming_call") == [(1,)]


def test_a_consultant_registers_their_own_calls(client: TestClient,
                                                seeded: EdgeSettings) -> None:
    token = token_for(seeded)
    mine = post(client, call(consultant_id=None), bearer(token), path="/api/v1/staff/calls")
    assert mine.status_code == 201, mine.text
    assert mine.json()["consultant_id"] == WANG
    post(client, call(consultant_id=None))  # reception's, answered by nobody named
    today = client.get("/api/v1/staff/calls/today", headers=bearer(token)).json()
    assert [c["id"] for c in today] == [mine.json()["id"]]
    assert post(client, call(), KIOSK, path="/api/v1/staff/calls").status_code == 401


def test_a_call_queued_on_the_phone_keeps_when_it_was_saved(client: TestClient,
                                                            seeded: EdgeSettings) -> None:
    staff = bearer(token_for(seeded))
    saved = utcnow() - timedelta(hours=26)  # queued while the appliance was out of reach
    late = post(client, call(consultant_id=None, occurred_at=saved.isoformat()), staff,
                path=STAFF_CALLS)
    assert late.status_code == 201, late.text
    assert datetime.fromisoformat(late.json()["occurred_at"]) == saved
    assert late.json()["call_date"] == shanghai_date(saved).isoformat()
    # A phone clock ahead of the appliance's is not believed.
    ahead = post(client, call(consultant_id=None,
                              occurred_at=(utcnow() + timedelta(hours=3)).isoformat()),
                 staff, path=STAFF_CALLS)
    assert ahead.status_code == 201, ahead.text
    assert datetime.fromisoformat(ahead.json()["occurred_at"]) <= utcnow()
    director = bearer(token_for(seeded, ZHOU, roles=frozenset({"sales_director"})))
    refused = post(client, call(consultant_id=None), director, path=STAFF_CALLS)
    assert refused.status_code == 422 and refused.json()["code"] == "not_call_answerer"
    assert table(seeded, "SELECT count(*) FROM outbox") == [(2,)]


@pytest.mark.anyio
async def test_an_erasure_and_a_new_site_key_reach_the_calls(
        store: Store, edge_settings: EdgeSettings) -> None:
    await store.write(apply_batch, batch(edge_settings, [project(1, 1, "云栖府")]), utcnow())
    for phone in (PHONE, "13687654321"):
        await calls_service.record_call(store, edge_settings, CallDraft.model_validate(
            call(phone=phone, consultant_id=None)), recorded_by="kiosk:test",
            consultant_id=None)
    await store.write(apply_batch, batch(edge_settings, [erasure(2, edge_settings, 1, PHONE)],
                                         cursor=1), utcnow())
    found = {r[3]: r for r in table(edge_settings, "SELECT phone_bidx, phone_enc, name_enc, "
                                                   "phone_masked FROM incoming_call")}
    erased, kept = found["已删除"], found["136****4321"]
    assert erased[0].startswith("erased:") and erased[1:3] == ("", None)
    assert kept[0] == edge_settings.blind_index.phone("13687654321") and kept[2] is not None
    rotated = settings_like(edge_settings, site_key=new_key())
    await store.write(ensure_site_key, edge_settings)
    await store.write(ensure_site_key, rotated)
    after = dict(table(edge_settings, "SELECT phone_masked, phone_bidx FROM incoming_call"))
    assert after["136****4321"] == rotated.blind_index.phone("13687654321")
    assert after["已删除"] == erased[0]
