"""The developer's review of referrals (报备审核) where a project's rules ask for one, and
channel teams whose rule overrides apply to their agencies' referrals."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.channel.models import Referral
from tests.cloud import audit_rows, signed_in
from tests.cloud.channel_world import ChannelWorld, refer

PHONE = "13612345678"


def _publish(api: TestClient, cw: ChannelWorld, rules: dict[str, object]) -> None:
    response = api.post(f"/api/v1/channel/projects/{cw.project('site-a')}/rules",
                        headers=signed_in(api, "cm_a"), json={"rules": rules})
    assert response.status_code == 201, response.text


def _review(api: TestClient, who: str, referral_id: int, **body: object) -> dict[str, object]:
    response = api.post(f"/api/v1/channel/referrals/{referral_id}/review",
                        headers=signed_in(api, who), json=body)
    answer: dict[str, object] = {"status": response.status_code, **response.json()}
    return answer


def test_a_referral_waits_for_the_developer_and_protects_once_approved(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    _publish(api, cw, {"developer_approval": True})
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), PHONE).json()
    assert (referral["state"], referral["reason_code"]) == ("pending", "pending_approval")
    assert referral["reason"] == "报备待开发商审核"

    assert _review(api, "broker_a1", referral["id"], approved=True)["status"] == 403
    assert _review(api, "cm_b", referral["id"], approved=True)["code"] == "referral_not_found"
    approved = _review(api, "cm_a", referral["id"], approved=True, comment="资料齐全")
    assert approved["status"] == 200, approved
    assert (approved["state"], approved["reason_code"]) == ("confirmed", "referral_protected")
    assert approved["evidence"] and any(
        str(e).startswith("review:") for e in approved["evidence"])  # type: ignore[union-attr]
    [row] = audit_rows(db, "channel.referral_review")
    assert row.detail == {"approved": True, "comment": "资料齐全", "state": "confirmed",
                          "reason": "referral_protected"}
    again = _review(api, "cm_a", referral["id"], approved=False, comment="重复")
    assert (again["status"], again["code"]) == (409, "referral_review_not_due")

    # Another agency's broker meets a customer under protection: refused at once, and
    # there is nothing for the developer to approve.
    second = refer(api, signed_in(api, "broker_b1"), cw.project("site-a"), PHONE).json()
    assert (second["state"], second["reason_code"]) == ("invalid", "in_protection")
    assert _review(api, "cm_a", second["id"], approved=True)["status"] == 409


def test_a_rejection_needs_a_reason_and_invalidates_the_referral(
    api: TestClient, cw: ChannelWorld
) -> None:
    _publish(api, cw, {"developer_approval": True})
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), PHONE).json()
    blank = _review(api, "cm_a", referral["id"], approved=False, comment="  ")
    assert (blank["status"], blank["code"]) == (422, "review_comment_required")
    rejected = _review(api, "cm_a", referral["id"], approved=False, comment="客户已是自然来访")
    assert (rejected["state"], rejected["reason_code"], rejected["reason"]) == (
        "invalid", "rejected_by_developer", "开发商审核未通过")


def test_no_review_where_the_rules_ask_for_none(api: TestClient, cw: ChannelWorld) -> None:
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), PHONE).json()
    assert referral["state"] == "confirmed"
    answer = _review(api, "cm_a", referral["id"], approved=True)
    assert (answer["status"], answer["code"]) == (409, "referral_review_not_due")


def test_a_teams_override_applies_to_its_agencies_referrals_as_they_were_made(
    api: TestClient, cw: ChannelWorld, db: Session
) -> None:
    _publish(api, cw, {"team_overrides": {"金牌团队": {"referral_protection": {
        "kind": "duration", "length": "PT120H"}}}})
    agency_a = cw.agencies["A"].id
    moved = api.patch(f"/api/v1/channel/agencies/{agency_a}", headers=signed_in(api, "cm_a"),
                      json={"team": "金牌团队"})
    assert moved.status_code == 200 and moved.json()["team"] == "金牌团队"
    assert audit_rows(db, "channel.agency_update")[-1].detail["after"]["team"] == "金牌团队"

    project = cw.project("site-a")
    in_team = refer(api, signed_in(api, "broker_a1"), project, PHONE).json()
    outside = refer(api, signed_in(api, "broker_b1"), project, "13698765432").json()

    def window(answer: dict[str, str]) -> timedelta:
        return (datetime.fromisoformat(answer["protection_until"])
                - datetime.fromisoformat(answer["created_at"]))

    assert window(in_team) == timedelta(hours=120)
    assert window(outside) == timedelta(hours=72)

    # Leaving the team later does not re-judge what was referred inside it.
    left = api.patch(f"/api/v1/channel/agencies/{agency_a}", headers=signed_in(api, "cm_a"),
                     json={"team": ""})
    assert left.json()["team"] is None
    row = db.get(Referral, in_team["id"])
    assert row is not None and row.team == "金牌团队"
    assert window(refer(api, signed_in(api, "broker_a2"), project, "13611112222").json()
                  ) == timedelta(hours=72)
