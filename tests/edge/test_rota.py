"""Reception rota (轮岗): check in / out, the queue in check-in order, turns consumed by
new customers only, every change an event row, Asia/Shanghai days — on real SQLite."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.main import create_app
from edge_agent.rota import service as rota
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.sync.downlink import apply_batch
from shared.envelope import DownItem
from shared.timeutil import utcnow
from tests.consent import consent_body, consent_in
from tests.edge.helpers import KIOSK_TOKEN
from tests.edge.seed import batch, consultant, customer, project, seed

AUTH = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
WANG, LI, ZHAO, GONE, MANAGER = 7, 8, 9, 10, 11
KNOWN_PHONE = "13900001111"  # a return customer owned by 王顾问


def roster(settings: EdgeSettings) -> list[DownItem]:
    manager = DownItem(offset=6, kind="consultant", key=str(MANAGER),
                       data={"id": MANAGER, "name": "孙经理", "active": True,
                             "roles": ["sales_manager"]})
    return [
        project(1, 1, "云栖府"),
        consultant(2, WANG, "王顾问"),
        consultant(3, LI, "李顾问"),
        consultant(4, ZHAO, "赵顾问"),
        consultant(5, GONE, "钱顾问", active=False),
        manager,
        customer(7, settings, 1, KNOWN_PHONE, visit_count=2, owner_id=WANG,
                 owner_name="王顾问", last_visit_at=utcnow() - timedelta(days=3)),
    ]


@pytest.fixture
def client(edge_settings: EdgeSettings) -> Iterator[TestClient]:
    seed(edge_settings, roster(edge_settings))
    with TestClient(create_app(edge_settings, sync=False)) as test_client:
        yield test_client


def board(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/kiosk/rota/board", headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def order(client: TestClient) -> list[int]:
    return [c["id"] for c in board(client)["consultants"] if c["on_duty"]]


def duty(client: TestClient, action: str, consultant_id: int) -> Any:
    return client.post(f"/api/v1/kiosk/rota/{action}", json={"consultant_id": consultant_id},
                       headers=AUTH)


def register(client: TestClient, phone: str, consultant_id: int | None, key: str = "") -> Any:
    response = client.post(
        "/api/v1/kiosk/visits",
        json={"phone": phone, "party_size": 2, "consultant_id": consultant_id,
              "consent": consent_body()},
        headers={**AUTH, "Idempotency-Key": key or uuid.uuid4().hex},
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def events(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/kiosk/rota/events", headers=AUTH)
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()
    return result


def test_every_rota_route_requires_the_kiosk_token(client: TestClient) -> None:
    for method, path in [("GET", "board"), ("GET", "events"), ("POST", "check-in"),
                         ("POST", "check-out")]:
        for headers in ({}, {"Authorization": "Bearer " + "x" * 32}):
            response = client.request(method, f"/api/v1/kiosk/rota/{path}", headers=headers,
                                      json={"consultant_id": WANG})
            assert response.status_code == 401, (method, path)
            assert response.json()["code"] == "kiosk_token_invalid"
    assert order(client) == []


def test_the_board_lists_active_consultants_off_duty_at_the_start_of_a_day(
    client: TestClient,
) -> None:
    body = board(client)
    assert body["next_consultant_id"] is None
    # the inactive one and the sales manager are not on the rota
    assert [(c["id"], c["name"], c["on_duty"], c["position"]) for c in body["consultants"]] == [
        (WANG, "王顾问", False, None), (LI, "李顾问", False, None), (ZHAO, "赵顾问", False, None)]
    assert all(c["received_today"] == 0 and c["checked_in_at"] is None
               for c in body["consultants"])


def test_the_queue_is_in_check_in_order_and_the_head_is_next(client: TestClient) -> None:
    for cid in (LI, WANG, ZHAO):
        response = duty(client, "check-in", cid)
        assert response.status_code == 200 and response.json()["changed"] is True
    body = board(client)
    assert order(client) == [LI, WANG, ZHAO] and body["next_consultant_id"] == LI
    assert [c["position"] for c in body["consultants"]] == [1, 2, 3]
    assert all(c["checked_in_at"] is not None for c in body["consultants"])


def test_a_new_customer_sends_the_receiver_to_the_tail(client: TestClient) -> None:
    for cid in (WANG, LI, ZHAO):
        duty(client, "check-in", cid)
    visit = register(client, "+86 138-0013-8000", WANG)
    assert visit["classification"] == "first_visit"
    assert order(client) == [LI, ZHAO, WANG]
    consumed = events(client)[0]
    assert consumed["action"] == "turn_consumed" and consumed["consultant_id"] == WANG
    assert consumed["visit_id"] == visit["id"] and consumed["actor"] == "kiosk:visit"
    assert (consumed["position_before"], consumed["position_after"]) == (1, 3)
    assert consumed["reason"] == "接待首访客户 138****8000，轮到队尾"
    assert "13800138000" not in str(events(client))
    wang = next(c for c in board(client)["consultants"] if c["id"] == WANG)
    assert wang["received_today"] == 1 and wang["return_visits_today"] == 0


def test_a_return_visit_goes_to_its_owner_without_using_a_turn(client: TestClient) -> None:
    for cid in (WANG, LI):
        duty(client, "check-in", cid)
    visit = register(client, KNOWN_PHONE, WANG)
    assert visit["classification"] == "return_visit"
    assert order(client) == [WANG, LI]
    assert [e["action"] for e in events(client)] == ["check_in", "check_in"]
    wang = next(c for c in board(client)["consultants"] if c["id"] == WANG)
    assert wang["received_today"] == 0 and wang["return_visits_today"] == 1


def test_a_replay_or_a_second_registration_the_same_day_uses_no_second_turn(
    client: TestClient,
) -> None:
    for cid in (WANG, LI, ZHAO):
        duty(client, "check-in", cid)
    key = uuid.uuid4().hex
    register(client, "13800138000", WANG, key)
    register(client, "13800138000", WANG, key)  # a double tap: same idempotency key
    register(client, "138 0013 8000", LI)  # the same customer again today
    assert order(client) == [LI, ZHAO, WANG]
    assert [e["action"] for e in events(client)].count("turn_consumed") == 1


def test_a_visit_received_by_someone_off_duty_or_by_nobody_changes_nothing(
    client: TestClient,
) -> None:
    duty(client, "check-in", LI)
    register(client, "13800138001", ZHAO)
    register(client, "13800138002", None)
    assert order(client) == [LI]
    assert [e["action"] for e in events(client)] == ["check_in"]


def test_check_out_leaves_the_queue_and_a_new_check_in_joins_its_tail(
    client: TestClient,
) -> None:
    for cid in (WANG, LI, ZHAO):
        duty(client, "check-in", cid)
    out = duty(client, "check-out", WANG)
    assert out.status_code == 200 and out.json()["changed"] is True
    assert out.json()["next_consultant_id"] == LI
    assert order(client) == [LI, ZHAO]
    wang = next(c for c in board(client)["consultants"] if c["id"] == WANG)
    assert wang["on_duty"] is False and wang["checked_out_at"] is not None
    duty(client, "check-in", WANG)
    assert order(client) == [LI, ZHAO, WANG]
    latest = events(client)
    assert [(e["action"], e["position_before"], e["position_after"]) for e in latest[:2]] == [
        ("check_in", None, 3), ("check_out", 1, None)]
    assert latest[0]["reason"] == "重新上岗，排入接待队列队尾"
    assert latest[0]["actor"] == "kiosk:testclient"
    assert latest[0]["consultant_name"] == "王顾问"


def test_checking_in_twice_or_out_when_off_changes_nothing(client: TestClient) -> None:
    duty(client, "check-in", WANG)
    again = duty(client, "check-in", WANG)
    assert again.status_code == 200 and again.json()["changed"] is False
    off = duty(client, "check-out", LI)
    assert off.status_code == 200 and off.json()["changed"] is False
    assert len(events(client)) == 1


@pytest.mark.parametrize(
    ("consultant_id", "code"),
    [(404, "unknown_consultant"), (GONE, "consultant_inactive"), (MANAGER, "not_on_rota")],
)
def test_only_active_consultants_can_check_in(
    client: TestClient, consultant_id: int, code: str
) -> None:
    response = duty(client, "check-in", consultant_id)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code and response.json()["detail"]
    assert events(client) == []


@pytest.mark.parametrize("body", [{}, {"consultant_id": 0}, {"consultant_id": WANG, "x": 1}])
def test_bad_bodies_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/kiosk/rota/check-in", json=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"


def test_every_queue_change_is_an_outbox_event(
    client: TestClient, edge_settings: EdgeSettings
) -> None:
    for cid in (WANG, LI):
        duty(client, "check-in", cid)
    duty(client, "check-out", LI)
    duty(client, "check-out", LI)  # no change: no event
    register(client, "13800138000", WANG)
    status = client.get("/api/v1/kiosk/status", headers=AUTH).json()
    assert status["backlog"] == 5
    with sqlite3.connect(edge_settings.database_path) as db:
        types = [row[0] for row in db.execute("SELECT type FROM outbox ORDER BY seq")]
        actions = [row[0] for row in db.execute("SELECT action FROM rota_event ORDER BY id")]
    assert types == ["rota.changed"] * 3 + ["visit.registered", "rota.changed"]
    assert actions == ["check_in", "check_in", "check_out", "turn_consumed"]


# Service level, with a chosen clock: days are Asia/Shanghai days.

def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-11-<day> hh:mm in Asia/Shanghai (UTC+8), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
async def seeded_store(store: Store, edge_settings: EdgeSettings) -> Store:
    await store.write(apply_batch, batch(edge_settings, roster(edge_settings)), utcnow())
    return store


@pytest.mark.anyio
async def test_a_new_shanghai_day_starts_with_an_empty_queue(
    seeded_store: Store, edge_settings: EdgeSettings
) -> None:
    late = shanghai(24, 23, 50)  # 15:50 UTC, still the 24th in Shanghai
    await rota.check_in(seeded_store, edge_settings, WANG, now=late)
    await rota.check_in(seeded_store, edge_settings, LI, now=late + timedelta(minutes=1))
    same_day = await rota.board(seeded_store, edge_settings, now=shanghai(24, 23, 59))
    assert str(same_day.duty_date) == "2026-11-24" and same_day.next_consultant_id == WANG
    # 16:05 UTC on the 24th:
    next_day = await rota.board(seeded_store, edge_settings, now=shanghai(25, 0, 5))
    assert str(next_day.duty_date) == "2026-11-25"
    assert next_day.next_consultant_id is None
    assert not any(c.on_duty for c in next_day.consultants)
    assert await rota.events(seeded_store, now=shanghai(25, 0, 5)) == []
    assert len(await rota.events(seeded_store, now=late)) == 2


@pytest.mark.anyio
async def test_a_first_visit_after_midnight_uses_no_turn_of_yesterday(
    seeded_store: Store, edge_settings: EdgeSettings
) -> None:
    await rota.check_in(seeded_store, edge_settings, WANG, now=shanghai(24, 9))
    await rota.check_in(seeded_store, edge_settings, LI, now=shanghai(24, 9, 1))
    await register_visit(seeded_store, edge_settings,
                         VisitIn(phone="13700137000", party_size=1, consultant_id=WANG,
                                 consent=consent_in()),
                         now=shanghai(25, 0, 30))
    yesterday = await rota.board(seeded_store, edge_settings, now=shanghai(24, 20))
    assert yesterday.next_consultant_id == WANG
    assert [e.action for e in await rota.events(seeded_store, now=shanghai(24, 20))] == [
        "check_in", "check_in"]
    await rota.check_in(seeded_store, edge_settings, LI, now=shanghai(25, 9))
    await rota.check_in(seeded_store, edge_settings, WANG, now=shanghai(25, 9, 1))
    await register_visit(seeded_store, edge_settings,
                         VisitIn(phone="13700137001", party_size=1, consultant_id=LI,
                                 consent=consent_in()),
                         now=shanghai(25, 10))
    today = await rota.board(seeded_store, edge_settings, now=shanghai(25, 10))
    assert [c.id for c in today.consultants if c.on_duty] == [WANG, LI]
    assert {c.id: c.received_today for c in today.consultants} == {WANG: 1, LI: 1, ZHAO: 0}


@pytest.mark.anyio
async def test_a_consultant_the_cloud_deactivates_leaves_the_queue(
    seeded_store: Store, edge_settings: EdgeSettings
) -> None:
    now = shanghai(24, 10)
    for cid in (WANG, LI, ZHAO):
        await rota.check_in(seeded_store, edge_settings, cid, now=now)
    removed = consultant(20, LI, "李顾问", active=False)
    await seeded_store.write(apply_batch, batch(edge_settings, [removed], cursor=7), now)
    current = await rota.board(seeded_store, edge_settings, now=now)
    assert [(c.id, c.position) for c in current.consultants] == [(WANG, 1), (ZHAO, 2)]
