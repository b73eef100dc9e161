"""Consultant routes on the edge: edge-token auth, login through the cloud, follow-ups
written idempotently with their outbox event in one transaction, my visitors today."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from edge_agent.followups import service as followups_service
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.cloud import CloudClient
from edge_agent.staff_auth.deps import StaffUser, get_cloud
from edge_agent.store import Store, outbox
from edge_agent.store.models.sync import OutboxRow
from edge_agent.sync.downlink import apply_batch
from shared import edge_token
from shared.crypto import decode_key, new_key
from shared.envelope import DownItem
from shared.events import FOLLOWUP_RECORDED, FollowUpDraft
from shared.timeutil import utcnow
from tests.consent import consent_body
from tests.edge.helpers import KIOSK_TOKEN, settings_like
from tests.edge.seed import batch, consultant, customer, project, seed

KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
WANG, LI_INACTIVE, ZHAO = 7, 8, 9
KNOWN_PHONE = "13900001111"


def token_for(settings: EdgeSettings, user_id: int = WANG, *, key: bytes | None = None,
              site_id: str | None = None, ago: timedelta = timedelta(0),
              roles: frozenset[str] = frozenset({"consultant"})) -> str:
    token, _ = edge_token.issue(
        key or settings.site_key_bytes, user_id=user_id, name="王顾问",
        site_id=site_id or settings.site_id, roles=roles, now=utcnow() - ago)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def seeded(edge_settings: EdgeSettings) -> EdgeSettings:
    seed(edge_settings, [
        project(1, 1, "云栖府"),
        consultant(2, WANG, "王顾问"),
        consultant(3, LI_INACTIVE, "李顾问", active=False),
        consultant(4, ZHAO, "赵顾问"),
        customer(5, edge_settings, 1, KNOWN_PHONE, visit_count=2, owner_id=WANG,
                 owner_name="王顾问", last_visit_at=utcnow() - timedelta(days=3)),
    ])
    return edge_settings


@pytest.fixture
def client(seeded: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, sync=False)) as test_client:
        yield test_client


def register_visit(client: TestClient, phone: str = "13800138000",
                   consultant_id: int | None = WANG) -> dict[str, Any]:
    response = client.post(
        "/api/v1/kiosk/visits", json={"phone": phone, "party_size": 2, "name": "陈大文",
                                      "consultant_id": consultant_id,
                                      "consent": consent_body()},
        headers={**KIOSK, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def draft(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "kind": "call", "reached": True,
                            "note": "客户关心学区，周六带家人再来",
                            "occurred_at": utcnow().isoformat(),
                            "next_at": (utcnow() + timedelta(days=2)).isoformat()}
    body.update(overrides)
    return body


def post_follow_up(client: TestClient, token: str, body: dict[str, Any],
                   key: str | None = "same") -> httpx.Response:
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = body["id"] if key == "same" else key
    response: httpx.Response = client.post("/api/v1/staff/follow-ups", json=body,
                                           headers=headers)
    return response


def outbox_rows(settings: EdgeSettings) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute("SELECT seq, event_id, type FROM outbox ORDER BY seq").fetchall()


def read_store(settings: EdgeSettings, fn: Callable[[Store], Any]) -> Any:
    async def run() -> Any:
        store = await Store.open(settings.database_path)
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


# ---- auth ------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    pytest.param(lambda s: None, id="no token"),
    pytest.param(lambda s: KIOSK_TOKEN, id="the kiosk token"),
    pytest.param(lambda s: token_for(s, key=decode_key(new_key())), id="forged"),
    pytest.param(lambda s: token_for(s, ago=timedelta(hours=13)), id="expired"),
    pytest.param(lambda s: token_for(s, site_id="other-site"), id="another site"),
    pytest.param(lambda s: token_for(s)[:-3] + "abc", id="tampered"),
])
def test_the_staff_routes_refuse_a_bad_edge_token(
    client: TestClient, seeded: EdgeSettings, make: Callable[[EdgeSettings], str | None]
) -> None:
    token = make(seeded)
    headers = bearer(token) if token else {}
    for method, path, body in (("GET", "/api/v1/staff/visits/today", None),
                               ("GET", "/api/v1/staff/me", None),
                               ("POST", "/api/v1/staff/follow-ups", draft())):
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["code"] == "staff_token_invalid"
    assert outbox_rows(seeded) == []


def test_a_valid_token_needs_an_active_roster_entry(client: TestClient,
                                                    seeded: EdgeSettings) -> None:
    me = client.get("/api/v1/staff/me", headers=bearer(token_for(seeded)))
    assert me.status_code == 200 and me.json() == {"id": WANG, "name": "王顾问",
                                                   "roles": ["consultant"]}
    for user_id in (LI_INACTIVE, 4242):  # disabled in the roster; never on it
        response = post_follow_up(client, token_for(seeded, user_id), draft(phone=KNOWN_PHONE))
        assert response.status_code == 403 and response.json()["code"] == "not_on_roster"
    assert outbox_rows(seeded) == []


# ---- follow-ups --------------------------------------------------------------------


def test_a_follow_up_and_its_outbox_event_are_written_together(
    client: TestClient, seeded: EdgeSettings
) -> None:
    visit = register_visit(client)
    body = draft(visit_id=visit["id"], consultant_id=ZHAO)
    assert post_follow_up(client, token_for(seeded), body).status_code == 422  # no such field
    del body["consultant_id"]
    response = post_follow_up(client, token_for(seeded), body)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["consultant_id"] == WANG and out["effective"] is True
    assert out["phone_masked"] == "138****8000" and out["note"] == body["note"]
    rows = outbox_rows(seeded)
    assert [r[2] for r in rows] == ["visit.registered", FOLLOWUP_RECORDED]
    assert rows[1][0] == out["seq"]

    async def payload(store: Store) -> dict[str, Any]:
        row = await store.read(lambda s: s.get(OutboxRow, out["seq"]))
        assert row is not None
        return outbox.open_payload(seeded.cipher, row)

    sealed = read_store(seeded, payload)
    assert sealed["follow_up_id"] == body["id"] and sealed["visit_id"] == visit["id"]
    assert sealed["consultant_id"] == WANG  # from the token, never from the body
    assert sealed["phone"] == "13800138000" and sealed["project_id"] == 1
    with sqlite3.connect(seeded.database_path) as db:  # the note is encrypted at rest
        dump = "\n".join(db.iterdump())
    assert "学区" not in dump


def test_the_same_id_again_is_the_same_follow_up_and_no_second_event(
    client: TestClient, seeded: EdgeSettings
) -> None:
    body = draft(phone=KNOWN_PHONE, kind="wechat", reached=False)
    first = post_follow_up(client, token_for(seeded), body)
    again = post_follow_up(client, token_for(seeded), {**body, "note": "改过的内容"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and first.json()["effective"] is False
    assert len(outbox_rows(seeded)) == 1
    # Another consultant cannot take over that id.
    taken = post_follow_up(client, token_for(seeded, ZHAO), body)
    assert taken.status_code == 409 and taken.json()["code"] == "idempotency_key_reused"
    assert len(outbox_rows(seeded)) == 1


@pytest.mark.parametrize("key", [None, str(uuid.uuid4())], ids=["missing", "another id"])
def test_the_idempotency_key_is_the_follow_up_id(
    client: TestClient, seeded: EdgeSettings, key: str | None
) -> None:
    response = post_follow_up(client, token_for(seeded), draft(phone=KNOWN_PHONE), key=key)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_mismatch"
    assert outbox_rows(seeded) == []


@pytest.mark.parametrize(("overrides", "status", "code"), [
    ({"phone": "13612345678"}, 422, "customer_not_found"),
    ({"visit_id": str(uuid.uuid4())}, 404, "visit_not_found"),
    ({}, 422, "validation_failed"),  # names no customer
    ({"phone": KNOWN_PHONE, "kind": "sms"}, 422, "validation_failed"),
    ({"phone": KNOWN_PHONE, "note": "长" * 501}, 422, "validation_failed"),
    ({"phone": KNOWN_PHONE, "next_at": (utcnow() - timedelta(days=1)).isoformat()},
     422, "validation_failed"),
    ({"phone": KNOWN_PHONE, "occurred_at": "2026-11-25T10:00:00"}, 422, "validation_failed"),
    # Effective (reached, or a visit) means something was said: the edge refuses it empty.
    ({"phone": KNOWN_PHONE, "note": ""}, 422, "follow_up_content_required"),
    ({"phone": KNOWN_PHONE, "note": " \n "}, 422, "follow_up_content_required"),
    ({"phone": KNOWN_PHONE, "kind": "visit", "reached": False, "note": ""},
     422, "follow_up_content_required"),
])
def test_bad_follow_ups_are_refused_with_a_code(
    client: TestClient, seeded: EdgeSettings, overrides: dict[str, Any], status: int, code: str
) -> None:
    response = post_follow_up(client, token_for(seeded), draft(**overrides))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["detail"]
    assert outbox_rows(seeded) == []


def test_a_not_reached_attempt_needs_no_content(client: TestClient, seeded: EdgeSettings
                                               ) -> None:
    response = post_follow_up(client, token_for(seeded),
                              draft(phone=KNOWN_PHONE, reached=False, note=""))
    assert response.status_code == 201 and response.json()["effective"] is False


def test_only_the_owner_or_a_manager_writes_on_a_customer(
    client: TestClient, seeded: EdgeSettings
) -> None:
    """Zhao is on the same site's roster, but the visitor and the known customer are
    Wang's: a follow-up from Zhao (through the visit or by phone) is refused."""
    visit = register_visit(client)  # received by Wang, so Wang's
    for body in (draft(visit_id=visit["id"]), draft(phone=KNOWN_PHONE, reached=False)):
        refused = post_follow_up(client, token_for(seeded, ZHAO), body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "not_customer_owner"
    assert [r[2] for r in outbox_rows(seeded)] == ["visit.registered"]
    manager = token_for(seeded, ZHAO, roles=frozenset({"sales_manager"}))
    assert post_follow_up(client, manager, draft(visit_id=visit["id"])).status_code == 201
    assert post_follow_up(client, token_for(seeded), draft(visit_id=visit["id"])
                          ).status_code == 201


def test_a_visitor_nobody_received_gets_no_follow_up_until_assigned(
    client: TestClient, seeded: EdgeSettings
) -> None:
    visit = register_visit(client, phone="13700001234", consultant_id=None)
    response = post_follow_up(client, token_for(seeded), draft(visit_id=visit["id"]))
    assert response.status_code == 403 and response.json()["code"] == "customer_unassigned"


def test_a_phone_clock_ahead_of_the_edge_is_not_believed(
    client: TestClient, seeded: EdgeSettings
) -> None:
    ahead = utcnow() + timedelta(hours=3)
    body = draft(phone=KNOWN_PHONE, occurred_at=ahead.isoformat(),
                 next_at=(ahead + timedelta(days=1)).isoformat())
    out = post_follow_up(client, token_for(seeded), body).json()
    assert datetime.fromisoformat(out["occurred_at"]) <= utcnow() < ahead


def test_a_failure_inside_the_transaction_leaves_neither_follow_up_nor_event(
    seeded: EdgeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_in_tx(name: str) -> None:
        if name == "in_outbox_tx":
            raise RuntimeError("power cut inside the transaction")

    monkeypatch.setattr(followups_service, "crash_point", fail_in_tx)
    staff = StaffUser(id=WANG, name="王顾问", roles=("consultant",))
    data = FollowUpDraft.model_validate(draft(phone=KNOWN_PHONE))

    async def attempt(store: Store) -> int:
        with pytest.raises(RuntimeError):
            await followups_service.record_follow_up(store, seeded, staff, data)
        return (await store.read(outbox.get_state)).next_seq

    assert read_store(seeded, attempt) == 1  # no seq consumed
    assert outbox_rows(seeded) == []
    with sqlite3.connect(seeded.database_path) as db:
        assert db.execute("SELECT count(*) FROM follow_up").fetchone() == (0,)


def test_my_visitors_today_are_mine_only_with_their_follow_up_count(
    client: TestClient, seeded: EdgeSettings
) -> None:
    mine = register_visit(client, "13800138000", WANG)
    register_visit(client, "13700137000", ZHAO)
    today = client.get("/api/v1/staff/visits/today", headers=bearer(token_for(seeded)))
    assert today.status_code == 200
    [visit] = today.json()
    assert visit["id"] == mine["id"] and visit["follow_up_count"] == 0
    assert visit["phone_masked"] == "138****8000" and visit["name_masked"] == "陈**"
    assert "13800138000" not in today.text
    post_follow_up(client, token_for(seeded), draft(visit_id=mine["id"]))
    [again] = client.get("/api/v1/staff/visits/today", headers=bearer(token_for(seeded))).json()
    assert again["follow_up_count"] == 1
    theirs = client.get("/api/v1/staff/visits/today", headers=bearer(token_for(seeded, ZHAO)))
    assert [v["phone_masked"] for v in theirs.json()] == ["137****7000"]


# ---- login through the cloud ----------------------------------------------------------


def fake_cloud(seeded: EdgeSettings, *, key: bytes | None = None, user_id: int = WANG,
               login_status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/login":
            if login_status != 200:
                return httpx.Response(login_status, json={
                    "code": "invalid_credentials", "detail": "用户名或密码错误"})
            assert json.loads(request.content) == {"username": "wanglei", "password": "pw"}
            return httpx.Response(200, json={"access_token": "cloud-access"})
        assert request.url.path == "/api/v1/auth/edge-token"
        assert request.headers["authorization"] == "Bearer cloud-access"
        assert request.url.params["site_id"] == seeded.site_id
        return httpx.Response(200, json={"tokens": [
            {"site_id": seeded.site_id, "token": token_for(seeded, user_id, key=key)}]})

    return handle


def login_with(seeded: EdgeSettings, handler: Callable[[httpx.Request], httpx.Response] | None,
               **settings: Any) -> httpx.Response:
    configured = settings_like(seeded, **{"cloud_url": "http://cloud.test", **settings})
    app = create_app(configured, sync=False)
    if handler is not None:
        transport = httpx.MockTransport(handler)
        app.dependency_overrides[get_cloud] = lambda: CloudClient(
            "http://cloud.test", timeout=1, transport=transport)
    with TestClient(app) as test_client:
        response: httpx.Response = test_client.post(
            "/api/v1/staff/login", json={"username": "wanglei", "password": "pw"})
        return response


def test_login_through_the_edge_hands_out_the_edge_and_cloud_tokens(
    seeded: EdgeSettings
) -> None:
    response = login_with(seeded, fake_cloud(seeded),
                          cloud_public_url="https://cloud.example.cn")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cloud_access_token"] == "cloud-access"
    assert "cloud_refresh_token" not in body  # no long-lived cloud token in script's reach
    assert body["cloud_url"] == "https://cloud.example.cn" and body["site_id"] == seeded.site_id
    assert body["user"] == {"id": WANG, "name": "王顾问", "roles": ["consultant"]}
    assert body["projects"] == [{"id": 1, "name": "云栖府"}] and body["default_project_id"] == 1
    claims = edge_token.verify(seeded.site_key_bytes, body["edge_token"], site_id=seeded.site_id)
    assert claims.user_id == WANG


@pytest.mark.parametrize(("handler", "status", "code"), [
    (lambda s: fake_cloud(s, login_status=401), 401, "invalid_credentials"),
    (lambda s: fake_cloud(s, key=decode_key(new_key())), 502, "site_key_mismatch"),
    (lambda s: fake_cloud(s, user_id=LI_INACTIVE), 403, "not_on_roster"),
], ids=["wrong password", "another key", "disabled"])
def test_a_refused_login_says_why(
    seeded: EdgeSettings, handler: Callable[[EdgeSettings], Any], status: int, code: str
) -> None:
    response = login_with(seeded, handler(seeded))
    assert response.status_code == status and response.json()["code"] == code
    assert response.json()["detail"]


def test_a_lock_at_the_cloud_reaches_the_phone_with_its_wait(seeded: EdgeSettings) -> None:
    def locked(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "600"}, json={
            "code": "account_locked", "retry_after_minutes": 10,
            "detail": "连续登录失败次数过多，账号已锁定，请 10 分钟后再试"})

    response = login_with(seeded, locked)

    assert (response.status_code, response.json()["code"]) == (429, "account_locked")
    assert response.headers["Retry-After"] == "600"
    assert response.json()["retry_after_minutes"] == 10


def test_login_without_the_cloud_says_so_in_chinese(seeded: EdgeSettings) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    response = login_with(seeded, down)
    assert response.status_code == 503 and response.json()["code"] == "cloud_unreachable"
    assert "离线使用" in response.json()["detail"]
    unconfigured = login_with(seeded, None, cloud_url=None)
    assert unconfigured.status_code == 503
    assert unconfigured.json()["code"] == "cloud_not_configured"


def test_a_follow_up_cannot_name_the_visit_of_an_erased_customer(
    client: TestClient, seeded: EdgeSettings
) -> None:
    mine = register_visit(client, "13800138000", WANG)
    bidx = seeded.blind_index.phone("13800138000")
    read_store(seeded, lambda store: store.write(apply_batch, batch(seeded, [DownItem(
        offset=6, kind="customer", key=f"1:{bidx}",
        data={"project_id": 1, "phone_bidx": bidx, "phone_masked": "已删除", "erased": True},
    )], cursor=5), utcnow()))
    refused = post_follow_up(client, token_for(seeded), draft(visit_id=mine["id"]))
    assert refused.status_code == 404 and refused.json()["code"] == "visit_not_found"
    mine_now = client.get("/api/v1/staff/customers", headers=bearer(token_for(seeded)))
    assert mine_now.status_code == 200
    assert "已删除" not in mine_now.text  # an erased visitor is nobody's customer
