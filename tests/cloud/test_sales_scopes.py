"""Visits and customers through the API: data scopes by site, masking, audited unmasking."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.identity import service as identity_service
from cloud.settings import CloudSettings
from cloud.sync import provision, service
from shared.crypto import decode_key
from shared.envelope import Envelope
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.wire import EPOCH, INSTANCE

PASSWORD = "Scope#2026-test"


def _visit(session: Session, settings: CloudSettings, site_id: str, key: bytes, seq: int,
           project_id: int, phone: str, ago: timedelta = timedelta(minutes=5)) -> None:
    env = Envelope(
        epoch=EPOCH, instance=INSTANCE,
        site_id=site_id, seq=seq, event_id=uuid.uuid4(), type=VISIT_REGISTERED,
        occurred_at=utcnow() - ago, sent_at=utcnow(),
        payload={"visit_id": str(uuid.uuid4()), "project_id": project_id, "phone": phone,
                 "name": "陈大文", "party_size": 2},
    ).signed(key)
    result = service.apply_batch(session, settings=settings, site_id=site_id, envelopes=[env])
    assert result.acked_seq == seq and not result.rejected


@pytest.fixture
def world(db: Session, settings: CloudSettings) -> dict[str, int]:
    ids: dict[str, int] = {}
    for site_id in ("site-a", "site-b"):
        creds = provision.provision_site(db, settings=settings, site_id=site_id,
                                         name=site_id, projects=[f"{site_id} 项目"])
        db.flush()
        from cloud.catalog.models import Project

        project = db.exec(select(Project).where(Project.site_id == site_id)).one()
        assert project.id is not None
        ids[f"project_{site_id}"] = project.id
        key = decode_key(creds.site_key)
        phones = ["13800000001", "13800000002", "13800000003"] if site_id == "site-a" \
            else ["13900000009"]
        for seq, phone in enumerate(phones, start=1):
            _visit(db, settings, site_id, key, seq, project.id, phone,
                   ago=timedelta(minutes=10 * seq))
    people = [("consult_a", ["consultant"], ["site-a"], False),
              ("consult_b", ["consultant"], ["site-b"], False),
              ("manager_a", ["sales_manager"], ["site-a"], False),
              ("hqadmin", ["hq_manager"], [], True)]
    for username, roles, scopes, everything in people:
        user = identity_service.create_user(
            db, username=username, password=PASSWORD, display_name=username, roles=roles,
            site_ids=scopes, scope_all=everything, must_change_password=False, actor="test")
        assert user.id is not None
        ids[username] = user.id
    db.commit()
    return ids


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login",
                           json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_consultant_sees_only_the_visits_of_their_site(client: TestClient,
                                                          world: dict[str, int]) -> None:
    page = client.get("/api/v1/visits", headers=login(client, "consult_a")).json()
    assert {v["site_id"] for v in page["items"]} == {"site-a"} and len(page["items"]) == 3
    assert all(v["phone_masked"].count("*") == 4 for v in page["items"])
    assert page["items"][0]["customer_name_masked"] == "陈**"
    hq = client.get("/api/v1/visits", headers=login(client, "hqadmin")).json()
    assert {v["site_id"] for v in hq["items"]} == {"site-a", "site-b"}


def test_another_sites_customer_is_404_and_search_finds_nothing(
    client: TestClient, world: dict[str, int]
) -> None:
    headers = login(client, "consult_a")
    b_customer = client.get("/api/v1/customers", params={"phone": "13900000009"},
                            headers=login(client, "hqadmin")).json()[0]
    response = client.get(f"/api/v1/customers/{b_customer['id']}", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "customer_not_found"
    found = client.get("/api/v1/customers", params={"phone": "139-0000-0009"}, headers=headers)
    assert found.status_code == 200 and found.json() == []
    mine = client.get("/api/v1/customers", params={"phone": "+86 13800000001"}, headers=headers)
    assert [c["phone_masked"] for c in mine.json()] == ["138****0001"]


def test_unmasking_needs_the_permission_and_is_audited(
    client: TestClient, world: dict[str, int], db: Session
) -> None:
    a_customer = client.get("/api/v1/customers", params={"phone": "13800000001"},
                            headers=login(client, "hqadmin")).json()[0]
    url = f"/api/v1/customers/{a_customer['id']}/unmask"
    denied = client.post(url, json={"reason": "回访客户"}, headers=login(client, "consult_a"))
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    other_site = client.post(url, json={"reason": "回访客户"}, headers=login(client, "consult_b"))
    assert other_site.status_code == 403
    shown = client.post(url, json={"reason": "回访客户"}, headers=login(client, "manager_a"))
    assert shown.status_code == 200 and shown.json()["phone"] == "13800000001"
    assert shown.json()["name"] == "陈大文"
    rows = db.exec(select(AuditLog).where(AuditLog.action == "customer.unmask")).all()
    assert len(rows) == 1 and rows[0].actor_id == world["manager_a"]
    assert rows[0].detail["reason"] == "回访客户" and "13800000001" not in str(rows[0].detail)


def test_visit_list_pages_with_a_cursor(client: TestClient, world: dict[str, int]) -> None:
    headers = login(client, "consult_a")
    first = client.get("/api/v1/visits", params={"limit": 2}, headers=headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get("/api/v1/visits", params={"limit": 2, "cursor": first["next_cursor"]},
                        headers=headers).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    seen = [v["id"] for v in first["items"] + second["items"]]
    assert len(set(seen)) == 3


def test_anonymous_requests_get_problem_json_401(client: TestClient) -> None:
    response = client.get("/api/v1/visits")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized" and response.json()["status"] == 401


def test_bad_query_input_gets_a_chinese_validation_problem(client: TestClient,
                                                           world: dict[str, int]) -> None:
    response = client.get("/api/v1/visits", params={"limit": 100000},
                          headers=login(client, "hqadmin"))
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"
    assert response.json()["detail"] == "输入数据不合法"
