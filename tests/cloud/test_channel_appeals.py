"""Appeals (申诉): who may file and read them, the deadline, the decision and its
override of the referral, the broker's notifications."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.channel.appeal_models import ReferralOverride
from cloud.channel.models import Referral
from cloud.channel.redecide import redecide_project
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.appeal_world import appeal, refused_referral
from tests.cloud.channel_world import ChannelWorld

APPEALS = "/api/v1/channel/appeals"


def test_a_broker_appeals_their_refusal_and_only_the_right_people_see_it(
        api: TestClient, cw: ChannelWorld) -> None:
    referral = refused_referral(api, cw)
    broker = signed_in(api, "broker_b1")
    opened = appeal(api, broker, referral["id"])
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["state"] == "submitted" and body["appealed_state"] == "invalid"
    assert body["appealed_reason"] == referral["reason_code"]
    assert body["deadline"][:10] >= referral["decided_at"][:10]
    assert appeal(api, broker, referral["id"]).json()["code"] == "appeal_already_open"

    url = f"{APPEALS}/{body['id']}"
    assert api.get(url, headers=broker).status_code == 200
    assert [a["id"] for a in api.get(APPEALS, headers=broker).json()] == [body["id"]]
    # Another broker, the other agency's admin, the other site's manager: not found.
    for outsider in ("broker_a1", "broker_a2", "agency_a", "cm_b"):
        headers = signed_in(api, outsider)
        assert api.get(url, headers=headers).status_code == 404, outsider
        assert api.get(APPEALS, headers=headers).json() == [], outsider
    assert api.get(url, headers=signed_in(api, "cm_a")).status_code == 200
    # Nobody appeals a referral of someone else's.
    assert appeal(api, signed_in(api, "broker_a2"), referral["id"]).status_code == 404


def test_what_may_be_appealed(api: TestClient, cw: ChannelWorld) -> None:
    refused_referral(api, cw, phone="13622223333")
    winner = api.get("/api/v1/channel/referrals", headers=signed_in(api, "broker_a1")).json()[0]
    headers = signed_in(api, "broker_a1")
    # A referral that stands is no refusal: only an attribution appeal (成交申诉) fits.
    refused = appeal(api, headers, winner["id"], kind="referral")
    assert refused.status_code == 422 and refused.json()["code"] == "appeal_not_allowed"
    # Without a kind, the state decides: a referral that stands is contested as 成交申诉.
    inferred = api.post(APPEALS, headers=headers,
                        json={"referral_id": winner["id"], "reason": "归属结果有误"})
    assert inferred.status_code == 201 and inferred.json()["kind"] == "deal"


def test_the_deadline_is_the_projects_and_counts_from_the_decision(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    referral = refused_referral(api, cw)
    row = db.get(Referral, referral["id"])
    assert row is not None
    row.decided_at = utcnow() - timedelta(days=7, minutes=1)
    db.add(row)
    db.commit()
    broker = signed_in(api, "broker_b1")
    late = appeal(api, broker, referral["id"])
    assert late.status_code == 422 and late.json()["code"] == "appeal_deadline_passed"

    policy = api.put(f"/api/v1/channel/projects/{cw.project('site-a')}/risk-policy",
                     headers=signed_in(api, "cm_a"), json={"appeal_deadline_days": 8})
    assert policy.status_code == 200, policy.text
    assert appeal(api, broker, referral["id"]).status_code == 201


def test_an_upheld_appeal_overrides_the_referral_audited_and_the_broker_is_told(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    referral = refused_referral(api, cw)
    broker = signed_in(api, "broker_b1")
    opened = appeal(api, broker, referral["id"]).json()
    manager = signed_in(api, "cm_a")
    url = f"{APPEALS}/{opened['id']}"
    # The other site's manager cannot decide it; a broker cannot decide at all.
    assert api.post(f"{url}/review", headers=signed_in(api, "cm_b")).status_code == 404
    assert api.post(f"{url}/review", headers=broker).status_code == 403
    assert api.post(f"{url}/review", headers=manager).json()["state"] == "under_review"

    decided = api.post(f"{url}/decision", headers=manager, json={
        "outcome": "upheld", "comment": "聊天记录证明先到", "new_state": "confirmed"})
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["state"] == "upheld" and body["decision_comment"] == "聊天记录证明先到"
    assert body["override"]["engine_state"] == "invalid"
    assert body["override"]["engine_reason"] == referral["reason_code"]
    assert body["referral_state"] == "confirmed"
    shown = api.get(f"/api/v1/channel/referrals/{referral['id']}", headers=broker).json()
    assert shown["state"] == "confirmed" and shown["reason_code"] == "appeal_upheld"
    assert api.post(f"{url}/decision", headers=manager, json={
        "outcome": "rejected", "comment": "再次处理"}).json()["code"] == "appeal_state_conflict"

    db.rollback()
    override = db.exec(select(ReferralOverride)).one()
    assert (override.source, override.source_id, override.state) == (
        "appeal", opened["id"], "confirmed")
    audit = db.exec(select(AuditLog).where(
        AuditLog.action == "channel.referral_override")).one()
    assert audit.actor == "cm_a" and audit.detail["before"]["state"] == "invalid"
    assert audit.detail["comment"] == "聊天记录证明先到"
    actions = set(db.exec(select(AuditLog.action).where(
        AuditLog.object_type == "channel_appeal")).all())
    assert {"channel.appeal_submit", "channel.appeal_review",
            "channel.appeal_decide"} <= actions

    notes = api.get("/api/v1/channel/notifications/mine", headers=broker).json()
    assert [n["title"] for n in notes] == ["申诉结果：申诉成立", "申诉审核中"]
    assert notes[0]["data"]["appeal_id"] == opened["id"]
    assert api.get("/api/v1/channel/notifications/mine",
                   headers=signed_in(api, "broker_a1")).json() == []
    # The engine's re-decision leaves the person's decision alone.
    redecide_project(db, settings=settings, project_id=cw.project("site-a"), as_of=utcnow())
    db.commit()
    db.refresh(override)
    kept = db.get(Referral, referral["id"], populate_existing=True)
    assert kept is not None and kept.state == "confirmed"


def test_rejected_and_withdrawn(api: TestClient, cw: ChannelWorld) -> None:
    referral = refused_referral(api, cw)
    broker = signed_in(api, "broker_b1")
    first = appeal(api, broker, referral["id"]).json()
    withdrawn = api.post(f"{APPEALS}/{first['id']}/withdraw", headers=broker)
    assert withdrawn.json()["state"] == "withdrawn"
    second = appeal(api, broker, referral["id"]).json()
    rejected = api.post(f"{APPEALS}/{second['id']}/decision", headers=signed_in(api, "cm_a"),
                        json={"outcome": "rejected", "comment": "证据不足"})
    assert rejected.json()["state"] == "rejected" and rejected.json()["override"] is None
    assert rejected.json()["referral_state"] == "invalid"
    assert api.post(f"{APPEALS}/{second['id']}/withdraw",
                    headers=broker).json()["code"] == "appeal_state_conflict"
