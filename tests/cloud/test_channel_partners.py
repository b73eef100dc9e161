"""Agencies and brokers: invited by code, joined, approved, frozen, rated; all audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import make_user, signed_in
from tests.cloud.sales_world import build_world


@pytest.fixture
def api(db: Session, settings: CloudSettings) -> Iterator[TestClient]:
    world = build_world(db, settings)
    make_user(db, "cm_x", roles=["channel_manager"], site_ids=["site-a"])
    make_user(db, "boss", roles=["agency_admin"])
    make_user(db, "wang", roles=["broker"])
    make_user(db, "solo", roles=["broker"])
    roomy = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        client.project_id = world["site-a"].project_id  # type: ignore[attr-defined]
        yield client


def test_invite_join_approve_freeze_rate(api: TestClient, db: Session) -> None:
    cm, boss, wang = (signed_in(api, u) for u in ("cm_x", "boss", "wang"))
    invited = api.post("/api/v1/channel/agencies", headers=cm, json={"name": "链家某店"})
    assert invited.status_code == 201, invited.text
    agency = invited.json()
    assert agency["status"] == "invited" and len(agency["invite_code"]) == 8

    wrong = api.post("/api/v1/channel/brokers/join", headers=boss,
                     json={"invite_code": "NOPE2345", "phone": "13700000001"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invite_code_invalid"
    admin = api.post("/api/v1/channel/brokers/join", headers=boss,
                     json={"invite_code": agency["invite_code"].lower(),
                           "phone": "137 0000 0001"})
    assert admin.status_code == 201, admin.text
    assert admin.json()["status"] == "pending" and admin.json()["phone_masked"] == "137****0001"
    twice = api.post("/api/v1/channel/brokers/join", headers=boss,
                     json={"invite_code": agency["invite_code"], "phone": "13700000001"})
    assert twice.status_code == 409
    listed = api.get("/api/v1/channel/agencies", headers=cm).json()
    assert [a["status"] for a in listed] == ["pending"]  # the first joining applied

    member = api.post("/api/v1/channel/brokers/join", headers=wang,
                      json={"invite_code": agency["invite_code"], "phone": "13700000002"})
    # A pending broker of a pending agency may not refer.
    refused = api.post("/api/v1/channel/referrals", headers=wang,
                       json={"project_id": api.project_id,  # type: ignore[attr-defined]
                             "phone": "13612345678", "name": "张伟"})
    assert refused.status_code == 403 and refused.json()["code"] == "broker_inactive"

    url = f"/api/v1/channel/agencies/{agency['id']}"
    assert api.patch(url, headers=cm, json={"status": "frozen"}).status_code == 409
    approved = api.patch(url, headers=cm, json={"status": "active", "rating": 4})
    assert approved.json()["status"] == "active" and approved.json()["rating"] == 4
    # The admin's own row is approved by the channel manager, then the admin approves.
    member_url = f"/api/v1/channel/brokers/{member.json()['id']}"
    assert api.patch(member_url, headers=boss, json={"status": "active"}).status_code == 404
    assert api.patch(f"/api/v1/channel/brokers/{admin.json()['id']}", headers=cm,
                     json={"status": "active"}).status_code == 200
    assert api.get("/api/v1/channel/brokers", headers=boss).status_code == 200
    assert api.patch(member_url, headers=boss, json={"status": "active", "rating": 5}
                     ).json()["status"] == "active"
    ok = api.post("/api/v1/channel/referrals", headers=wang,
                  json={"project_id": api.project_id,  # type: ignore[attr-defined]
                        "phone": "13612345678", "name": "张伟"})
    assert ok.status_code == 201, ok.text

    assert api.patch(url, headers=cm, json={"status": "frozen"}).json()["status"] == "frozen"
    frozen = api.post("/api/v1/channel/referrals", headers=wang,
                      json={"project_id": api.project_id,  # type: ignore[attr-defined]
                            "phone": "13612345679", "name": "李娜"})
    assert frozen.status_code == 403
    assert api.post("/api/v1/channel/brokers/join", headers=signed_in(api, "solo"),
                    json={"invite_code": agency["invite_code"], "phone": "13700000003"}
                    ).status_code == 422

    actions = db.exec(select(AuditLog.action).where(col(AuditLog.action).like("channel.%"))
                      .order_by(col(AuditLog.id))).all()
    assert actions[:3] == ["channel.agency_invite", "channel.broker_join", "channel.broker_join"]
    assert {"channel.agency_update", "channel.broker_update",
            "channel.referral_submit"} <= set(actions)


def test_an_individual_referrer_joins_without_a_code(api: TestClient) -> None:
    solo = api.post("/api/v1/channel/brokers/join", headers=signed_in(api, "solo"),
                    json={"phone": "13700000003"})
    assert solo.status_code == 201
    assert (solo.json()["kind"], solo.json()["agency_id"]) == ("referrer", None)
    # Only channel staff approve individual referrers; an agency admin does not see them.
    boss_view = api.get("/api/v1/channel/brokers", headers=signed_in(api, "boss"))
    assert boss_view.json() == []
    approved = api.patch(f"/api/v1/channel/brokers/{solo.json()['id']}",
                         headers=signed_in(api, "cm_x"), json={"status": "active"})
    assert approved.json()["status"] == "active"


def test_rule_versions_are_published_forward_only(api: TestClient) -> None:
    cm = signed_in(api, "cm_x")
    url = f"/api/v1/channel/projects/{api.project_id}/rules"  # type: ignore[attr-defined]
    assert [v["version"] for v in api.get(url, headers=cm).json()] == [1]
    past = api.post(url, headers=cm, json={"effective_from": "2026-01-01T00:00:00Z",
                                           "rules": {}})
    assert past.status_code == 422 and past.json()["code"] == "channel_rules_invalid"
    bad = api.post(url, headers=cm, json={"rules": {"lead_time": "soon"}})
    assert bad.status_code == 422 and "lead_time" in bad.json()["detail"]
    published = api.post(url, headers=cm, json={"rules": {"phone_policy": "3+4",
                                                          "lead_time": "PT45M"}})
    assert published.status_code == 201, published.text
    versions = api.get(url, headers=cm).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["rules"]["phone_policy"] == "full"
    assert versions[1]["rules"]["phone_policy"] == "3+4"
    assert versions[1]["effective_from"].endswith("Z")
