"""带看 without a code at the cloud, 带看记录 and the provisional answers kept (issue #21,
ADR 0030): a hand-picked guide confirms the referral as a guided visit and opens a
review case, once however often its event arrives; a signed code for the same visit
wins; the console lists scans, replays and picks by result, scoped to the caller's
projects; a registration's provisional answer is kept and compared with the cloud's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel.models import QrScan, Referral
from cloud.channel.risk_models import RiskCase
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared import qr
from shared.events import GUIDE_PICKED, QR_CHECKED_IN, QR_REFUSED, VISIT_REGISTERED
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import apply, envelope
from tests.cloud.test_channel_qr import NEW, checkin, on_site, referral_and_code, visit

GUIDED = "/api/v1/channel/guided-visits"
ANSWERS = "/api/v1/channel/provisional-answers"


def pick(cw: ChannelWorld, referral_id: int, visit_id: str, *, broker: str = "broker_a1",
         edge_state: str | None = "confirmed") -> dict[str, Any]:
    return {"visit_id": visit_id, "project_id": cw.project("site-a"),
            "referral_id": referral_id, "broker_id": cw.brokers[broker].id, "phone": NEW,
            "tablet": "10.0.0.7", "edge_state": edge_state, "edge_reason": "visit_confirmed"}


def pending_referral(api: TestClient, cw: ChannelWorld) -> int:
    on_site(api, cw)
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW).json()
    assert referral["state"] == "pending", referral
    return int(referral["id"])


def test_a_hand_picked_guide_confirms_the_referral_once_and_opens_a_review_case(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id = pending_referral(api, cw)
    site = cw.sales["site-a"]
    visit_id = str(uuid.uuid4())
    batch = [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), GUIDE_PICKED,
                 pick(cw, referral_id, visit_id, edge_state="confirmed")),
    ]
    assert apply(db, settings, "site-a", batch).rejected == []
    # The appliance resends (its ack was lost): nothing is applied twice.
    apply(db, settings, "site-a", batch)

    row = db.get(Referral, referral_id, populate_existing=True)
    assert row is not None and (row.state, row.reason_code) == ("confirmed", "visit_confirmed")
    guided = db.get(Visit, visit_id, populate_existing=True)
    assert guided is not None
    assert (guided.broker_id, guided.referral_id, guided.guide_method, guided.source) == (
        cw.brokers["broker_a1"].id, referral_id, "manual", "channel")
    scan = db.exec(select(QrScan)).one()
    assert (scan.method, scan.outcome, scan.edge_state, scan.cloud_state, scan.visit_id) == (
        "manual", "accepted", "confirmed", "confirmed", visit_id)
    # Weaker evidence than a signed code: a reviewer must look at it.
    case = db.exec(select(RiskCase)).one()
    assert (case.check_code, case.referral_id, case.severity, case.state) == (
        "manual_guide", referral_id, "review", "open")
    assert [i["kind"] for i in case.evidence["timeline"]] == ["referral", "manual_guide"]
    audit = db.exec(select(AuditLog).where(AuditLog.action == "channel.guide_picked")).one()
    assert audit.detail["risk_case_id"] == case.id and audit.detail["tablet"] == "10.0.0.7"
    detail = api.get(f"/api/v1/channel/referrals/{referral_id}",
                     headers=signed_in(api, "cm_a")).json()
    assert [(s["method"], s["outcome"], s["differs"]) for s in detail["qr_check_ins"]] == [
        ("manual", "accepted", False)]


def test_a_pick_naming_another_brokers_referral_is_refused(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id = pending_referral(api, cw)
    site = cw.sales["site-a"]
    visit_id = str(uuid.uuid4())
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), GUIDE_PICKED,
                 pick(cw, referral_id, visit_id, broker="broker_b1"))])

    assert [r.reason for r in result.rejected] == ["guide_referral_unknown"]
    row = db.get(Referral, referral_id, populate_existing=True)
    assert row is not None and row.state == "pending"
    guided = db.get(Visit, visit_id, populate_existing=True)
    assert guided is not None and guided.broker_id is None
    assert db.exec(select(QrScan.outcome)).all() == ["refused"]
    assert db.exec(select(RiskCase)).all() == []


def test_a_signed_code_for_the_same_visit_stays_the_evidence(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id, token = referral_and_code(api, cw)
    site = cw.sales["site-a"]
    visit_id = str(uuid.uuid4())
    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
                 checkin(cw, qr.read_claims(token), visit_id)),
        envelope(site.key, "site-a", site.next_seq(), GUIDE_PICKED,
                 pick(cw, referral_id, visit_id))])

    guided = db.get(Visit, visit_id, populate_existing=True)
    assert guided is not None and guided.guide_method == "qr"
    rows = db.exec(select(QrScan.method, QrScan.outcome, QrScan.reason_code)
                   .order_by(col(QrScan.id))).all()
    assert rows == [("qr", "accepted", "ok"), ("manual", "refused", "guide_superseded")]
    assert db.exec(select(RiskCase)).all() == []


def test_the_project_may_switch_the_review_off(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id = pending_referral(api, cw)
    done = api.put(f"/api/v1/channel/projects/{cw.project('site-a')}/risk-policy",
                   headers=signed_in(api, "cm_a"),
                   json={"checks": {"manual_guide": {"action": "off"}}})
    assert done.status_code == 200, done.text
    site = cw.sales["site-a"]
    visit_id = str(uuid.uuid4())
    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), GUIDE_PICKED,
                 pick(cw, referral_id, visit_id))])

    assert db.exec(select(RiskCase)).all() == []
    row = db.get(Referral, referral_id, populate_existing=True)
    assert row is not None and row.state == "confirmed"


@pytest.fixture
def scans(api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
          ) -> dict[str, int]:
    """One attempt of each result at site A: a scan accepted, the same code again at
    another appliance (duplicate), refusals (forged, expired, used here before) and a
    broker picked by hand."""
    referral_id, token = referral_and_code(api, cw)
    claims = qr.read_claims(token)
    site = cw.sales["site-a"]
    project = cw.project("site-a")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    def refused(code: str) -> dict[str, Any]:
        return {"project_id": project, "code": code, "referral_id": referral_id,
                "broker_id": claims.bid, "token_sha256": "b" * 64}

    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, first)),
        envelope(site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
                 checkin(cw, claims, first)),
        envelope(site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
                 checkin(cw, claims, second)),
        envelope(site.key, "site-a", site.next_seq(), QR_REFUSED, refused("qr_bad_signature")),
        envelope(site.key, "site-a", site.next_seq(), QR_REFUSED, refused("qr_expired")),
        envelope(site.key, "site-a", site.next_seq(), QR_REFUSED, refused("qr_replayed")),
        envelope(site.key, "site-a", site.next_seq(), QR_REFUSED, refused("qr_wrong_project")),
        envelope(site.key, "site-a", site.next_seq(), GUIDE_PICKED,
                 pick(cw, referral_id, first)),
    ])
    return {"referral": referral_id, "broker": claims.bid}


def test_the_guided_visit_records_list_by_result_method_and_broker(
    api: TestClient, cw: ChannelWorld, scans: dict[str, int],
) -> None:
    staff = signed_in(api, "cm_a")
    everything = api.get(GUIDED, headers=staff)
    assert everything.status_code == 200, everything.text
    rows = everything.json()
    assert [r["result"] for r in rows] == ["refused", "refused", "replayed", "expired",
                                           "forged", "duplicate", "accepted"]
    assert rows[0]["method"] == "manual" and rows[0]["reason_code"] == "guide_superseded"
    accepted = rows[-1]
    assert accepted["broker_name"] and accepted["project_name"]
    assert accepted["phone_masked"] == "136****5678"
    assert (accepted["edge_state"], accepted["cloud_state"]) == ("confirmed", "confirmed")

    for result in ("accepted", "forged", "expired", "replayed", "duplicate"):
        found = api.get(GUIDED, headers=staff, params={"result": result}).json()
        assert [r["result"] for r in found] == [result], result
    manual = api.get(GUIDED, headers=staff, params={"method": "manual"}).json()
    assert [r["method"] for r in manual] == ["manual"]
    assert api.get(GUIDED, headers=staff, params={"broker_id": scans["broker"]}).json()
    other_broker = cw.brokers["broker_b1"].id
    assert api.get(GUIDED, headers=staff, params={"broker_id": other_broker}).json() == []
    page = api.get(GUIDED, headers=staff, params={"limit": 3}).json()
    rest = api.get(GUIDED, headers=staff, params={"before_id": page[-1]["id"]}).json()
    assert [r["id"] for r in page + rest] == [r["id"] for r in rows]

    # Scoped like the rest of the channel data: site B's manager sees none of site A's.
    assert api.get(GUIDED, headers=signed_in(api, "cm_b")).json() == []
    assert api.get(GUIDED, headers=signed_in(api, "broker_a1")).status_code == 403
    bad = api.get(GUIDED, headers=staff, params={"result": "lost"})
    assert bad.status_code == 422


def test_a_registrations_provisional_answer_is_kept_and_compared(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
) -> None:
    referral_id = pending_referral(api, cw)
    site = cw.sales["site-a"]
    stale, right = str(uuid.uuid4()), str(uuid.uuid4())
    broker_id = cw.brokers["broker_a1"].id
    # An appliance that had not yet heard of the referral answered "nobody's, first visit".
    behind = {**visit(cw, stale), "source": "natural",
              "edge_attribution": {"first_visit": True, "owner_kind": "none"}}
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, behind)])
    kept = db.get(Visit, stale)
    assert kept is not None and kept.edge_attribution == {
        "first_visit": True, "owner_kind": "none", "owner_broker_id": None, "brokers": [],
        "rule_version": 0}
    # Another customer, answered as the cloud would.
    other = {**visit(cw, right), "phone": "13712340000", "source": "natural",
             "edge_attribution": {"first_visit": True, "owner_kind": "none",
                                  "rule_version": 2}}
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, other)])

    staff = signed_in(api, "cm_a")
    listed = api.get(ANSWERS, headers=staff)
    assert listed.status_code == 200, listed.text
    by_visit = {r["visit_id"]: r for r in listed.json()}
    assert set(by_visit) == {stale, right}
    differing = by_visit[stale]
    assert differing["differs"] is True
    assert differing["cloud"]["brokers"] == [
        {"referral_id": referral_id, "broker_id": broker_id, "state": "pending"}]
    assert any("设备未收到" in line for line in differing["differences"])
    assert differing["phone_masked"] == "136****5678"
    assert by_visit[right]["differs"] is False and by_visit[right]["differences"] == []

    only = api.get(ANSWERS, headers=staff, params={"differs": True}).json()
    assert [r["visit_id"] for r in only] == [stale]
    assert api.get(ANSWERS, headers=signed_in(api, "cm_b")).json() == []
    assert api.get(ANSWERS, headers=signed_in(api, "broker_a1")).status_code == 403
