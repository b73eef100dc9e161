"""Overrides (人工改判) as facts of the engine, on real PostgreSQL: after an upheld
appeal or a voided attribution, the customer's other referrals — those live now and
those made later — are judged with the person's decision, and the 判客依据 timeline
shows it with who decided and why."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.channel.models import Referral
from cloud.channel.risk_models import RiskCase
from tests.cloud import signed_in
from tests.cloud.appeal_world import appeal, refused_referral
from tests.cloud.channel_world import ChannelWorld, refer

PHONE = "13611112222"


def _referral(api: TestClient, user: str, referral_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api.get(f"/api/v1/channel/referrals/{referral_id}",
                                    headers=signed_in(api, "cm_a")).json()
    return found


def test_an_upheld_appeal_moves_the_claim_and_a_later_referral_respects_it(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    project = cw.project("site-a")
    loser = refused_referral(api, cw, phone=PHONE)
    first = api.get("/api/v1/channel/referrals", headers=signed_in(api, "broker_a1")).json()[0]
    broker = signed_in(api, "broker_b1")
    opened = appeal(api, broker, loser["id"]).json()
    manager = signed_in(api, "cm_a")
    decided = api.post(f"/api/v1/channel/appeals/{opened['id']}/decision", headers=manager,
                       json={"outcome": "upheld", "comment": "聊天记录证明先到",
                             "new_state": "confirmed"})
    assert decided.status_code == 200, decided.text

    upheld = _referral(api, "cm_a", loser["id"])
    assert (upheld["state"], upheld["reason_code"]) == ("confirmed", "appeal_upheld")
    assert upheld["protection_until"] is not None  # a referral window from the decision
    # The first broker's referral lost the claim at once, judged and audited.
    displaced = _referral(api, "cm_a", first["id"])
    assert (displaced["state"], displaced["reason_code"]) == ("invalid", "claim_overridden")
    assert displaced["reason"] == "经人工改判，客户已归属其他报备"
    db.rollback()
    redecided = db.exec(select(AuditLog).where(
        AuditLog.action == "channel.referral_redecide",
        AuditLog.object_id == str(first["id"]))).one()
    assert redecided.detail["after"]["reason"] == "claim_overridden"

    # A third broker's referral is judged against the upheld referral's claim.
    later = refer(api, signed_in(api, "broker_a2"), project, PHONE).json()
    assert (later["state"], later["reason_code"]) == ("invalid", "in_protection")
    row = db.get(Referral, later["id"])
    assert row is not None and f"referral:{loser['id']}" in row.evidence

    # 判客依据 shows the override as a step: who decided, why, from which appeal.
    [timeline] = api.get(f"/api/v1/channel/projects/{project}/attribution",
                         headers=manager, params={"phone": PHONE}).json()["timelines"]
    [step] = [s for s in timeline["steps"] if s["kind"] == "override"]
    assert step["title"] == "人工改判"
    assert step["fact"]["override_state"] == "confirmed"
    assert (step["fact"]["override_source"], step["fact"]["override_source_id"]) == (
        "appeal", opened["id"])
    assert step["fact"]["comment"] == "聊天记录证明先到"
    assert step["fact"]["actor_name"] == "cm_a"
    assert {(c["referral_id"], c["reason"]["code"]) for c in step["changes"]} == {
        (loser["id"], "appeal_upheld"), (first["id"], "claim_overridden")}
    assert timeline["owner"]["broker_id"] == cw.brokers["broker_b1"].id


def test_a_voided_attribution_no_longer_keeps_another_broker_out(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    project = cw.project("site-a")
    voided = refer(api, signed_in(api, "broker_a1"), project, PHONE).json()
    assert voided["state"] == "confirmed"
    # Before the void another broker is refused: the first one's window still runs.
    assert refer(api, signed_in(api, "broker_b1"), project, PHONE).json()["reason_code"] == (
        "in_protection")
    case = RiskCase(project_id=project, referral_id=voided["id"],
                    broker_id=cw.brokers["broker_a1"].id or 0, check_code="late_referral",
                    stage="visit", severity="review", summary="报备后 40 分钟客户即到访",
                    evidence={"timeline": []})
    db.add(case)
    db.commit()
    reviewed = api.post(f"/api/v1/channel/risk/cases/{case.id}/review",
                        headers=signed_in(api, "cm_a"),
                        json={"outcome": "confirmed", "comment": "同车到场",
                              "void_attribution": True})
    assert reviewed.status_code == 200, reviewed.text

    again = refer(api, signed_in(api, "broker_a2"), project, PHONE).json()
    assert (again["state"], again["reason_code"]) == ("confirmed", "referral_protected")
    assert _referral(api, "cm_a", voided["id"])["reason_code"] == "risk_voided"


def test_the_timeline_exports_as_xlsx_with_the_override_audited(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    project = cw.project("site-a")
    loser = refused_referral(api, cw, phone=PHONE)
    opened = appeal(api, signed_in(api, "broker_b1"), loser["id"]).json()
    manager = signed_in(api, "cm_a")
    api.post(f"/api/v1/channel/appeals/{opened['id']}/decision", headers=manager,
             json={"outcome": "upheld", "comment": "聊天记录证明先到", "new_state": "confirmed"})
    # The override codes are among the referral list's reason filters.
    listed = api.get("/api/v1/channel/referrals", headers=manager,
                     params={"reason_code": "appeal_upheld"}).json()
    assert [r["id"] for r in listed] == [loser["id"]]
    assert len(api.get("/api/v1/channel/referrals", headers=manager,
                       params={"reason_code": "claim_overridden"}).json()) == 1

    url = f"/api/v1/channel/projects/{project}/attribution/export"
    answer = api.get(url, headers=manager, params={"referral_id": loser["id"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attribution-" in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    steps = [row for row in book["判客依据"].iter_rows(values_only=True)]
    assert steps[0][:4] == ("客户", "时间（北京）", "事件", "说明")
    assert [r[2] for r in steps[1:]] == ["报备", "报备", "人工改判"]
    override = steps[-1]
    assert override[0] == "136****2222"
    assert override[3] == f"申诉 #{opened['id']}：cm_a 改判为有效（聊天记录证明先到）"
    assert "appeal_upheld" in override[4] and "claim_overridden" in override[4]
    assert override[5].startswith("渠道：broker_b1")
    referrals = list(book["报备"].iter_rows(values_only=True))
    assert {r[1] for r in referrals[1:]} == {loser["id"], listed[0]["id"] - 1}
    # Audited as an export, without the number.
    db.rollback()
    [row] = db.exec(select(AuditLog).where(
        AuditLog.action == "channel.attribution_export")).all()
    assert row.detail["phone"] == "136****2222" and PHONE not in str(row.detail)
    assert api.get(url, headers=signed_in(api, "cm_b"),
                   params={"referral_id": loser["id"]}).status_code == 404
