"""Referrals (报备) through the API, decided at once by the attribution engine: each
refusal a stored outcome with its stable code and Chinese text."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel.models import Referral
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import PHONE_A

NEW = "13612345678"


def publish(client: TestClient, cw: ChannelWorld, rules: dict[str, Any]) -> None:
    response = client.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules",
                           headers=signed_in(client, "cm_a"), json={"rules": rules})
    assert response.status_code == 201, response.text


def test_a_new_customer_is_protected_and_the_second_broker_is_told_why(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    first = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["state"], body["reason_code"]) == ("confirmed", "referral_protected")
    assert body["reason"] == "报备有效，处于报备保护期"
    assert body["phone_masked"] == "136****5678" and body["customer_name"] == "张**"
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")

    second = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"), "136 1234 5678")
    assert second.status_code == 201
    assert (second.json()["state"], second.json()["reason_code"]) == ("invalid",
                                                                      "in_protection")
    assert second.json()["reason"] == "处于他人保护期"

    again = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW)
    assert again.json()["reason_code"] == "already_referred_by_you"

    stored = db.exec(select(Referral).order_by(col(Referral.id))).all()
    assert [r.state for r in stored] == ["confirmed", "invalid", "invalid"]
    assert stored[0].phone_enc and NEW not in stored[0].phone_enc
    actions = db.exec(select(AuditLog.action).where(
        AuditLog.action == "channel.referral_submit")).all()
    assert len(actions) == 3


def test_awaiting_approval_keeps_other_channels_out(api: TestClient, cw: ChannelWorld) -> None:
    publish(api, cw, {"developer_approval": True})
    first = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW)
    assert (first.json()["state"], first.json()["reason_code"]) == ("pending",
                                                                    "pending_approval")
    assert first.json()["rule_version"] == 2
    other = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"), NEW)
    assert other.json()["reason_code"] == "already_referred_by_other"


def test_a_customer_with_a_consultant_in_protection_is_refused(
    api: TestClient, cw: ChannelWorld
) -> None:
    answer = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), PHONE_A)
    assert answer.status_code == 201
    assert (answer.json()["state"], answer.json()["reason_code"]) == (
        "invalid", "existing_customer_with_consultant")


def test_a_masked_collision_is_a_suspected_duplicate(api: TestClient, cw: ChannelWorld) -> None:
    publish(api, cw, {"phone_policy": "3+4"})
    refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW)
    masked = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"), "136****5678")
    assert masked.json()["reason_code"] == "suspected_duplicate"
    assert masked.json()["reason"] == "疑似重号"
    # The masked form of the consultant's customer is 疑似重号 too, not "has a consultant".
    customer = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"),
                     PHONE_A[:3] + "****" + PHONE_A[7:])
    assert customer.json()["reason_code"] == "suspected_duplicate"
    unrelated = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"), "136****0000")
    assert unrelated.json()["state"] == "confirmed"


def test_a_masked_number_where_the_project_wants_it_full(api: TestClient,
                                                         cw: ChannelWorld) -> None:
    answer = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), "136****5678")
    assert answer.json()["reason_code"] == "phone_policy_violation"


def test_the_live_referral_cap(api: TestClient, cw: ChannelWorld) -> None:
    publish(api, cw, {"live_referral_cap": 2})
    headers = signed_in(api, "broker_a1")
    codes = [refer(api, headers, cw.project("site-a"), f"1361234000{i}").json()["reason_code"]
             for i in range(3)]
    assert codes == ["referral_protected", "referral_protected", "live_referral_cap"]
    # Another broker's count is their own.
    other = refer(api, signed_in(api, "broker_a2"), cw.project("site-a"), "13612340009")
    assert other.json()["state"] == "confirmed"


def test_the_same_idempotency_key_answers_the_first_result(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    headers = signed_in(api, "broker_a1")
    first = refer(api, headers, cw.project("site-a"), NEW, key="order-0001")
    repeat = refer(api, headers, cw.project("site-a"), NEW, key="order-0001")
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json() == first.json()
    reused = refer(api, headers, cw.project("site-a"), "13612349999", key="order-0001")
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency_key_reused"
    # Another broker's same key is their own.
    theirs = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"), NEW,
                   key="order-0001")
    assert theirs.status_code == 201 and theirs.json()["reason_code"] == "in_protection"
    assert len(db.exec(select(Referral)).all()) == 2


def test_bad_input_is_422_and_stores_nothing(api: TestClient, cw: ChannelWorld,
                                            db: Session) -> None:
    headers = signed_in(api, "broker_a1")
    for body in ({"project_id": cw.project("site-a"), "phone": "12345", "name": "张伟"},
                 {"project_id": cw.project("site-a"), "phone": NEW, "name": "张伟",
                  "created_at": "2026-01-01T00:00:00Z"}):
        response = api.post("/api/v1/channel/referrals", headers=headers, json=body)
        assert response.status_code == 422, response.text
    assert db.exec(select(Referral)).all() == []


def test_the_per_broker_rate_limit(settings: CloudSettings, cw: ChannelWorld) -> None:
    tight = settings.model_copy(update={"referral_limit": 2, "login_ip_limit": 1000})
    with TestClient(create_app(tight)) as client:
        headers = signed_in(client, "broker_a1")
        answers = [refer(client, headers, cw.project("site-a"), f"1361234500{i}")
                   for i in range(3)]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert answers[2].json()["code"] == "referral_rate_limited"
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
        # Other brokers are not slowed by this one.
        assert refer(client, signed_in(client, "broker_b1"), cw.project("site-a"),
                     "13612345009").status_code == 201


def test_customer_group_and_the_list_filters(api: TestClient, cw: ChannelWorld) -> None:
    headers = signed_in(api, "broker_a1")
    corporate = api.post("/api/v1/channel/referrals", headers=headers, json={
        "project_id": cw.project("site-a"), "phone": NEW, "name": "陈总",
        "customer_group": "corporate"})
    assert corporate.json()["customer_group"] == "corporate"
    refer(api, headers, cw.project("site-a"), NEW)  # already_referred_by_you
    refer(api, headers, cw.project("site-a"), "13612340000")
    listed = api.get("/api/v1/channel/referrals", headers=headers).json()
    assert [r["reason_code"] for r in listed] == [
        "referral_protected", "already_referred_by_you", "referral_protected"]
    invalid = api.get("/api/v1/channel/referrals", headers=headers,
                      params={"state": "invalid"}).json()
    assert [r["id"] for r in invalid] == [listed[1]["id"]]
    page = api.get("/api/v1/channel/referrals", headers=headers,
                   params={"before_id": listed[0]["id"], "limit": 1}).json()
    assert [r["id"] for r in page] == [listed[1]["id"]]
