"""Kiosk API: auth, validation, idempotency, the same-day rule, first/return visit."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.kiosk.listings import visits_on_day
from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.envelope import DownItem
from shared.timeutil import SHANGHAI, utcnow
from tests.consent import consent_body, consent_in
from tests.edge.helpers import KIOSK_TOKEN, make_settings, settings_like
from tests.edge.seed import consultant, customer, project, seed

AUTH = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
OPS_TOKEN = "ops-" + "x" * 28
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}
KNOWN_PHONE = "13900001111"  # in the cloud's customer cache: 2 visits, owner 王顾问
MANAGERS_PHONE = "13900002222"  # in the cache too, owned by 孙经理 (a sales manager)
MANAGER = 9


def key() -> dict[str, str]:
    return {**AUTH, "Idempotency-Key": uuid.uuid4().hex}


@pytest.fixture
def seeded(edge_settings: EdgeSettings) -> EdgeSettings:
    seed(
        edge_settings,
        [
            project(1, 1, "云栖府"),
            project(2, 2, "滨江府"),
            consultant(3, 7, "王顾问"),
            consultant(4, 8, "李顾问", active=False),
            customer(5, edge_settings, 1, KNOWN_PHONE, visit_count=2, owner_id=7,
                     owner_name="王顾问", last_visit_at=utcnow() - timedelta(days=3)),
            consultant(6, MANAGER, "孙经理", roles=["sales_manager"]),
            customer(7, edge_settings, 1, MANAGERS_PHONE, visit_count=1, owner_id=MANAGER,
                     owner_name="孙经理", last_visit_at=utcnow() - timedelta(days=5)),
        ],
    )
    return edge_settings


@pytest.fixture
def client(seeded: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, sync=False)) as test_client:
        yield test_client


def register(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    payload = {"phone": "13800138000", "party_size": 2, "consent": consent_body(), **body}
    return client.post("/api/v1/kiosk/visits", json=payload, headers=headers or key())


def backlog(client: TestClient) -> int:
    return int(client.get("/api/v1/kiosk/status", headers=AUTH).json()["backlog"])


def test_every_kiosk_route_requires_the_token(client: TestClient) -> None:
    routes = [("POST", "/api/v1/kiosk/visits"), ("GET", "/api/v1/kiosk/visits"),
              ("GET", "/api/v1/kiosk/customers/lookup?phone=13800138000"),
              ("GET", "/api/v1/kiosk/consultants"), ("GET", "/api/v1/kiosk/status")]
    for method, path in routes:
        wrong: tuple[dict[str, str], ...] = (
            {}, {"Authorization": "Bearer " + "x" * 32}, {"Authorization": KIOSK_TOKEN}
        )
        for headers in wrong:
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "kiosk_token_invalid"
    assert backlog(client) == 0


def test_first_visit_is_registered_with_its_event(client: TestClient, seeded: EdgeSettings) -> None:
    response = register(client, phone="+86 138-0013-8000", name="张三丰", consultant_id=7)
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created" and body["same_day"] is False
    assert body["classification"] == "first_visit" and body["visit_count"] == 1
    assert body["provisional"] is False  # the down-feed answered just now
    assert body["owner_id"] == 7 and body["owner_name"] == "王顾问"
    assert body["phone_masked"] == "138****8000" and body["name_masked"] == "张**"
    assert body["seq"] == 1 and body["message"] == "首访登记成功"
    assert "13800138000" not in response.text and "张三丰" not in response.text
    assert backlog(client) == 1
    with sqlite3.connect(seeded.database_path) as db:  # personal data encrypted at rest
        dump = "\n".join(db.iterdump())
    assert "13800138000" not in dump and "张三丰" not in dump and "138****8000" in dump


def test_retry_with_the_same_idempotency_key_returns_the_same_visit(client: TestClient) -> None:
    headers = key()
    first = register(client, headers)
    again = register(client, headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["outcome"] == "replayed"
    assert backlog(client) == 1
    other_phone = register(client, headers, phone="13700000000")
    assert other_phone.status_code == 409
    assert other_phone.json()["code"] == "idempotency_key_reused"
    assert backlog(client) == 1


@pytest.mark.parametrize("header", [None, "short", "bad key with spaces"])
def test_idempotency_key_is_required(client: TestClient, header: str | None) -> None:
    headers = dict(AUTH) if header is None else {**AUTH, "Idempotency-Key": header}
    response = register(client, headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_required"
    assert backlog(client) == 0


def test_one_customer_one_day_is_one_visit(client: TestClient) -> None:
    first = register(client)
    second = register(client, phone="138 0013 8000", party_size=4)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["outcome"] == "same_day_existing" and second.json()["same_day"] is True
    assert "今日已登记" in second.json()["message"]
    assert backlog(client) == 1
    other_project = register(client, project_id=2)  # the customer key is per project
    assert other_project.status_code == 201 and other_project.json()["visit_count"] == 1
    assert backlog(client) == 2


def test_a_visit_on_a_later_day_is_a_return_visit(edge_settings: EdgeSettings) -> None:
    # The cloud's view is an hour old (offline): the edge decides, provisionally.
    seed(edge_settings, [project(1, 1, "云栖府")],
         visits=[("13800138000", utcnow() - timedelta(days=1))],
         synced_at=utcnow() - timedelta(hours=1))
    with TestClient(create_app(edge_settings, sync=False)) as client:
        response = register(client)
        body = response.json()
        assert response.status_code == 201
        assert body["classification"] == "return_visit" and body["visit_count"] == 2
        assert body["provisional"] is True
        assert body["message"] == "复访登记成功" and body["seq"] == 2


def test_the_visit_day_is_the_beijing_day_on_both_sides_of_midnight(
    edge_settings: EdgeSettings,
) -> None:
    """23:59:30 and 00:00:30 in Beijing are two days (two visits) though one minute apart;
    00:00:30 and 23:59 of the same Beijing day — 16:00 UTC apart, two UTC dates — are one."""
    seed(edge_settings, [project(1, 1, "云栖府")])

    async def run() -> list[tuple[str, str, int]]:
        store = await Store.open(edge_settings.database_path)
        try:
            out = []
            for when in (datetime(2026, 11, 27, 23, 59, 30, tzinfo=SHANGHAI),
                         datetime(2026, 11, 28, 0, 0, 30, tzinfo=SHANGHAI),
                         datetime(2026, 11, 28, 23, 59, 0, tzinfo=SHANGHAI)):
                done = await register_visit(store, edge_settings,
                                            VisitIn(phone="13800138000", party_size=1,
                                                    consent=consent_in()),
                                            now=when.astimezone(UTC))
                out.append((done.outcome, done.visit.visit_date, done.visit.visit_number))
            today = await visits_on_day(store, now=datetime(2026, 11, 28, 0, 5, tzinfo=SHANGHAI))
            assert len(today) == 1 and today[0].visit_date == "2026-11-28"
            return out
        finally:
            await store.close()

    assert asyncio.run(run()) == [("created", "2026-11-27", 1), ("created", "2026-11-28", 2),
                                  ("same_day_existing", "2026-11-28", 2)]


def test_the_cloud_cache_makes_a_return_visit(client: TestClient) -> None:
    lookup = client.get("/api/v1/kiosk/customers/lookup", params={"phone": KNOWN_PHONE},
                        headers=AUTH).json()
    assert lookup["known"] is True and lookup["classification"] == "return_visit"
    assert lookup["visit_count"] == 2 and lookup["owner_name"] == "王顾问"
    assert lookup["visited_today"] is False
    body = register(client, phone=KNOWN_PHONE).json()
    assert body["classification"] == "return_visit" and body["visit_count"] == 3
    assert body["owner_id"] == 7
    after = client.get("/api/v1/kiosk/customers/lookup", params={"phone": KNOWN_PHONE},
                       headers=AUTH).json()
    assert after["visited_today"] is True and after["visit_count"] == 3
    unknown = client.get("/api/v1/kiosk/customers/lookup", params={"phone": "13612345678"},
                         headers=AUTH).json()
    assert unknown["known"] is False and unknown["classification"] == "first_visit"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "1380013800x"}, "invalid_phone"),
        ({"consultant_id": 99}, "unknown_consultant"),
        ({"consultant_id": 8}, "consultant_inactive"),
        ({"consultant_id": MANAGER}, "not_on_rota"),
        ({"project_id": 5}, "unknown_project"),
        ({"party_size": 0}, "validation_failed"),
        ({"source": "walk_in"}, "validation_failed"),
        ({"vip": True}, "validation_failed"),
        ({"name": "x" * 51}, "validation_failed"),
    ],
)
def test_bad_registrations_are_refused_with_a_code(
    client: TestClient, body: dict[str, Any], code: str
) -> None:
    response = register(client, **body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["detail"]  # a Chinese message for the receptionist
    assert backlog(client) == 0


def test_a_project_is_required_without_a_site_default(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, default_project_id=None)
    with TestClient(create_app(settings, sync=False)) as client:
        response = register(client)
        assert response.status_code == 422 and response.json()["code"] == "project_required"


def test_a_project_the_cloud_removed_from_the_site_takes_no_visits(
    client: TestClient, seeded: EdgeSettings
) -> None:
    assert register(client, project_id=2).status_code == 201
    removed = project(6, 2, "滨江府")
    seed(seeded, [DownItem(offset=6, kind="project", key="2",
                           data={**removed.data, "active": False})])
    response = register(client, project_id=2, phone="13900139000")
    assert response.status_code == 422 and response.json()["code"] == "unknown_project"
    assert backlog(client) == 1


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    response = register(client, intent="x" * 20_000)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert backlog(client) == 0


def test_todays_visits_are_listed_masked(client: TestClient, seeded: EdgeSettings) -> None:
    register(client, name="欧阳娜娜")
    register(client, phone=KNOWN_PHONE)
    response = client.get("/api/v1/kiosk/visits", headers=AUTH)
    visits = response.json()
    assert [v["phone_masked"] for v in visits] == ["139****1111", "138****8000"]
    assert visits[1]["name_masked"] == "欧**"  # the mask hides the name's length too
    assert "13800138000" not in response.text and "欧阳娜娜" not in response.text


def test_consultants_lists_the_active_rota_members_only(client: TestClient) -> None:
    # 李顾问 is inactive, 孙经理 a sales manager: neither may receive a walk-in.
    consultants = client.get("/api/v1/kiosk/consultants", headers=AUTH).json()
    assert consultants == [{"id": 7, "name": "王顾问", "roles": ["consultant"]}]


def test_a_managers_customer_stays_theirs_but_a_rota_consultant_receives(
    client: TestClient,
) -> None:
    lookup = client.get("/api/v1/kiosk/customers/lookup", params={"phone": MANAGERS_PHONE},
                        headers=AUTH).json()
    assert lookup["classification"] == "return_visit"
    assert (lookup["owner_id"], lookup["owner_name"]) == (MANAGER, "孙经理")
    refused = register(client, phone=MANAGERS_PHONE, consultant_id=MANAGER)
    assert refused.status_code == 422 and refused.json()["code"] == "not_on_rota"
    assert "销售经理" in refused.json()["detail"]
    assert backlog(client) == 1  # the look-up's audit event; the refusal wrote nothing
    body = register(client, phone=MANAGERS_PHONE, consultant_id=7).json()
    assert body["consultant_id"] == 7 and body["classification"] == "return_visit"
    assert (body["owner_id"], body["owner_name"]) == (MANAGER, "孙经理")


def test_status_and_health_without_sync(client: TestClient, seeded: EdgeSettings) -> None:
    register(client)
    status = client.get("/api/v1/kiosk/status", headers=AUTH).json()
    assert status["cloud_link"] == "offline" and status["sync_enabled"] is False
    assert status["backlog"] == 1 and status["last_acked_seq"] == 0
    assert status["oldest_unacked_at"] is not None
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["broker"] == "disabled"
    # Production mode and no ops token configured: the operators' pages are closed.
    assert client.get("/metrics").status_code == 401
    assert client.get("/api/v1/docs").status_code == 401
    with TestClient(create_app(settings_like(seeded, ops_token=OPS_TOKEN), sync=False)) as ops:
        assert register(ops, phone="13700137000").status_code == 201
        assert ops.get("/metrics").status_code == 401
        metrics = ops.get("/metrics", headers=OPS).text
    # (the route label comes from shared.http; the edge checks method and status)
    assert 'anchang_edge_http_request_seconds_count{method="POST"' in metrics
    assert 'status="201"' in metrics and "anchang_edge_outbox_backlog" in metrics


def test_settings_flag_turns_sync_off(edge_settings: EdgeSettings) -> None:
    settings = settings_like(edge_settings, sync_enabled=False)
    with TestClient(create_app(settings)) as client:
        assert client.app.state.sync_agent is None  # type: ignore[attr-defined]
