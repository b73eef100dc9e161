"""Risk checks (渠道风控), each a worked scenario from domain/channel-rules.md at its
boundary; the cases they raise, their review, and `block` at referral."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.audit import service as audit_service
from cloud.audit.models import AuditLog
from cloud.channel import risk_cases
from cloud.channel.appeal_models import ReferralOverride
from cloud.channel.models import Referral
from cloud.channel.risk_models import RiskCase
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.events import CUSTOMER_LOOKED_UP
from shared.phone import mask_phone
from shared.timeutil import as_utc, iso, utcnow
from tests.cloud import make_user, signed_in
from tests.cloud.appeal_world import appeal
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.risk_world import add_customer, add_follow_up, add_visit
from tests.cloud.sales_world import PHONE_A, apply, envelope

CASES = "/api/v1/channel/risk/cases"


def _refer(api: TestClient, broker: str, project_id: int, phone: str,
           name: str = "张伟") -> dict[str, Any]:
    answer = refer(api, signed_in(api, broker), project_id, phone, name=name)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _cases(db: Session, referral_id: int | None = None) -> list[RiskCase]:
    db.rollback()
    query = select(RiskCase)
    if referral_id is not None:
        query = query.where(RiskCase.referral_id == referral_id)
    return list(db.exec(query).all())


def _scan(db: Session, settings: CloudSettings) -> dict[str, Any]:
    """The referral-stage checks not set to block run in this job, not in the request."""
    found = jobs()["channel.risk_referral_scan"].run(db, settings)
    db.commit()
    return found


def _created(referral: dict[str, Any]) -> datetime:
    return as_utc(datetime.fromisoformat(referral["created_at"]))


def test_late_referral_fires_inside_the_risk_window_only(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    # lead_time 30 min (default rules), risk window 60 min: it fires for a first visit in
    # (30 min, 90 min] after the referral.
    project = cw.project("site-a")
    gaps = {"13700001001": timedelta(minutes=90), "13700001002": timedelta(minutes=90, seconds=1),
            "13700001003": timedelta(minutes=30), "13700001004": timedelta(minutes=31)}
    referrals = {}
    for phone, gap in gaps.items():
        referral = _refer(api, "broker_a1", project, phone)
        customer = add_customer(db, settings, project_id=project, phone=phone,
                                first_at=_created(referral) + gap)
        add_visit(db, customer, _created(referral) + gap)
        referrals[phone] = referral["id"]

    # The scheduled job is what runs the visit-stage checks.
    assert jobs()["channel.risk_scan"].run(db, settings) == {"checked": 4, "opened": 2}
    db.commit()
    fired = {c.referral_id: c for c in _cases(db)}
    assert set(fired) == {referrals["13700001001"], referrals["13700001004"]}
    case = fired[referrals["13700001001"]]
    assert (case.check_code, case.stage, case.severity) == ("late_referral", "visit", "review")
    assert [i["kind"] for i in case.evidence["timeline"]] == ["referral", "visit"]
    assert case.evidence["gap_minutes"] == 90
    # A second run finds the case it opened: no duplicate.
    assert risk_cases.scan(db, settings)["opened"] == 0


def test_searched_before_referral_by_an_unmasking_and_by_a_kiosk_look_up(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    shown = api.post(f"/api/v1/customers/{cw.sales['site-a'].customer_id}/unmask",
                     headers=signed_in(api, "manager_a"), json={"reason": "回访"})
    assert shown.status_code == 200, shown.text
    known = _refer(api, "broker_a1", project, PHONE_A)
    assert _cases(db, known["id"]) == []  # not in the request: the job opens it
    assert _scan(db, settings) == {"checked": 1, "opened": 1}
    case = _cases(db, known["id"])[0]
    assert case.check_code == "searched_before_referral" and case.severity == "review"
    assert [i["kind"] for i in case.evidence["timeline"]] == ["lookup", "referral"]

    # A number the office does not know: the kiosk's look-up names it masked, with the
    # project; 29 days before the referral counts (look-back 30), 31 days does not.
    now = utcnow()
    for phone, days in (("13700002001", 29), ("13700002002", 31)):
        audit_service.record(db, action="customer.lookup", actor="kiosk:site-a",
                             object_type="customer", object_id="",
                             detail={"project_id": project, "phone_masked": mask_phone(phone),
                                     "phone_bidx": settings.blind_index.phone(phone),
                                     "looked_up_at": iso(now - timedelta(days=days)),
                                     "known": False})
    db.commit()
    inside = _refer(api, "broker_a1", project, "13700002001")
    outside = _refer(api, "broker_a1", project, "13700002002")
    _scan(db, settings)
    assert [c.check_code for c in _cases(db, inside["id"])] == ["searched_before_referral"]
    assert _cases(db, outside["id"]) == []

    # Through the kiosk's real sync event: the look-up names the number by its blind
    # index, so another number with the same 3+4 mask is not taken for it.
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            CUSTOMER_LOOKED_UP, {
        "project_id": project, "phone": "13799992003", "known": False,
        "tablet": "192.168.1.20"})])
    db.commit()
    other = _refer(api, "broker_a1", project, "13700002003")
    looked_up = _refer(api, "broker_a2", project, "13799992003")
    _scan(db, settings)
    assert _cases(db, other["id"]) == []
    assert [c.check_code for c in _cases(db, looked_up["id"])] == ["searched_before_referral"]


def test_block_at_referral_refuses_with_a_stable_code_and_keeps_the_engines_answer(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    manager = signed_in(api, "cm_a")
    url = f"/api/v1/channel/projects/{project}/risk-policy"
    wrong = api.put(url, headers=manager,
                    json={"checks": {"late_referral": {"action": "block"}}})
    assert wrong.status_code == 422 and wrong.json()["code"] == "risk_policy_invalid"
    unknown = api.put(url, headers=manager, json={"checks": {"x": {"action": "flag"}}})
    assert unknown.json()["code"] == "risk_policy_invalid"
    assert api.put(url, headers=signed_in(api, "cm_b"), json={}).status_code == 404
    set_block = api.put(url, headers=manager, json={
        "checks": {"searched_before_referral": {"action": "block",
                                                "params": {"lookback_days": 7}}}})
    assert set_block.status_code == 200, set_block.text
    checks = {c["code"]: c for c in set_block.json()["checks"]}
    assert checks["searched_before_referral"]["action"] == "block"
    assert checks["searched_before_referral"]["params"] == {"lookback_days": 7}

    audit_service.record(db, action="customer.lookup", actor="kiosk:site-a",
                         object_type="customer", object_id="",
                         detail={"project_id": project, "phone_masked": "137****3001",
                                 "phone_bidx": settings.blind_index.phone("13700003001"),
                                 "looked_up_at": iso(utcnow() - timedelta(hours=1))})
    db.commit()
    blocked = _refer(api, "broker_a1", project, "13700003001")
    assert blocked["state"] == "invalid" and blocked["reason_code"] == "risk_blocked"
    assert "风控" in blocked["reason"]
    db.rollback()
    override = db.exec(select(ReferralOverride)).one()
    assert (override.engine_state, override.source) == ("confirmed", "risk_case")
    assert _cases(db, blocked["id"])[0].severity == "block"
    # The broker may appeal the block.
    assert appeal(api, signed_in(api, "broker_a1"), blocked["id"]).status_code == 201


def test_name_edits_fire_past_the_limit(api: TestClient, cw: ChannelWorld, db: Session,
                                        settings: CloudSettings) -> None:
    # max_edits 2: the third different spelling of one number's name is one edit too many.
    project = cw.project("site-a")
    phone = "13700004001"
    made = [_refer(api, broker, project, phone, name=name) for broker, name in (
        ("broker_a1", "张伟"), ("broker_b1", "张卫"), ("referrer", "章伟"))]
    _scan(db, settings)
    assert all(_cases(db, r["id"]) == [] for r in made)
    fourth = _refer(api, "broker_a2", project, phone, name="张为")
    _scan(db, settings)
    # Four brokers for one number: contested_number fires beside it (its own test below).
    cases = {c.check_code: c for c in _cases(db, fourth["id"])}
    assert set(cases) == {"name_edits", "contested_number"}
    case = cases["name_edits"]
    assert (case.severity, case.evidence["edits"]) == ("flag", 3)
    # The same name again is no edit.
    again = _refer(api, "broker_a1", project, "13700004002")
    _scan(db, settings)
    assert _cases(db, again["id"]) == []


def test_consultant_patterns_fire_for_many_consultants_in_a_short_time(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    # max_consultants 3 within 24 h: four different consultants fire it.
    project = cw.project("site-a")
    extra = make_user(db, "consult_a3", roles=["consultant"], site_ids=["site-a"]).id
    people = [cw.sales["consult_a"], cw.sales["consult_a2"], cw.sales["manager_a"], extra]
    spacing = {"13700005001": (people, timedelta(hours=7)),       # 4 in 21 h: fires
               "13700005002": (people[:3], timedelta(hours=7)),   # 3 in 14 h: no
               "13700005003": (people, timedelta(hours=9))}       # 4 over 27 h: no
    ids = {}
    for phone, (who, step) in spacing.items():
        referral = _refer(api, "broker_a1", project, phone)
        start = _created(referral) + timedelta(hours=1)
        customer = add_customer(db, settings, project_id=project, phone=phone, first_at=start)
        for n, consultant in enumerate(who):
            add_follow_up(db, customer, start + step * n, consultant)
        ids[phone] = referral["id"]
    risk_cases.scan(db, settings)
    db.commit()
    fired = [c for c in _cases(db) if c.check_code == "consultant_patterns"]
    assert [c.referral_id for c in fired] == [ids["13700005001"]]
    assert sorted(fired[0].evidence["consultants"]) == sorted(people)
    assert fired[0].stage == "allocation"


def test_duplicate_qr_hook(api: TestClient, cw: ChannelWorld, db: Session) -> None:
    referral = db.get(Referral, _refer(api, "broker_a1", cw.project("site-a"),
                                       "13700006001")["id"])
    assert referral is not None
    once = [{"at": iso(utcnow()), "device": "平板1"}]
    assert risk_cases.record_duplicate_qr(db, referral=referral, scans=once) is None
    case = risk_cases.record_duplicate_qr(db, referral=referral,
                                          scans=[*once, {"at": iso(utcnow()), "device": "平板2"}])
    assert case is not None and case.check_code == "duplicate_qr"
    assert case.evidence["scans"] == 2 and case.stage == "confirmation"


def test_review_confirms_and_voids_audited_the_broker_told_and_may_appeal(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    referral = _refer(api, "broker_a1", project, "13700007001")
    customer = add_customer(db, settings, project_id=project, phone="13700007001",
                            first_at=_created(referral) + timedelta(minutes=45))
    add_visit(db, customer, _created(referral) + timedelta(minutes=45))
    risk_cases.scan(db, settings)
    db.commit()
    (case,) = _cases(db, referral["id"])
    manager = signed_in(api, "cm_a")
    listed = api.get(CASES, headers=manager, params={"state": "open"}).json()
    assert [c["id"] for c in listed] == [case.id] and listed[0]["check_title"] == "临近到访报备"
    assert api.get(CASES, headers=signed_in(api, "cm_b")).json() == []
    assert api.get(f"{CASES}/{case.id}", headers=signed_in(api, "cm_b")).status_code == 404
    assert api.get(CASES, headers=signed_in(api, "broker_a1")).status_code == 403
    board = api.get("/api/v1/channel/risk/dashboard", headers=manager).json()
    assert board["open"] == [{"check_code": "late_referral", "project_id": project, "count": 1}]
    assert sum(d["count"] for d in board["trend"]) == 1

    detail = api.get(f"{CASES}/{case.id}", headers=manager).json()
    assert detail["evidence"]["timeline"][1]["kind"] == "visit"
    reviewed = api.post(f"{CASES}/{case.id}/review", headers=manager, json={
        "outcome": "confirmed", "comment": "经纪人与客户同车到场", "void_attribution": True})
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["voided"] and reviewed.json()["referral_state"] == "invalid"
    again = api.post(f"{CASES}/{case.id}/review", headers=manager,
                     json={"outcome": "dismissed", "comment": "x"})
    assert again.json()["code"] == "risk_case_closed"

    db.rollback()
    audit = db.exec(select(AuditLog).where(
        AuditLog.action == "channel.referral_override")).one()
    assert audit.detail["after"] == {"state": "invalid", "reason": "risk_voided"}
    broker = signed_in(api, "broker_a1")
    (note,) = api.get("/api/v1/channel/notifications/mine", headers=broker).json()
    assert note["kind"] == "risk_void" and note["data"]["risk_case_id"] == case.id
    assert appeal(api, broker, referral["id"]).status_code == 201


def test_a_dismissed_case_changes_nothing_and_checks_list_their_status(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    referral = _refer(api, "broker_a1", project, "13700008001")
    customer = add_customer(db, settings, project_id=project, phone="13700008001",
                            first_at=_created(referral) + timedelta(minutes=40))
    add_visit(db, customer, _created(referral) + timedelta(minutes=40))
    risk_cases.scan(db, settings)
    db.commit()
    (case,) = _cases(db, referral["id"])
    manager = signed_in(api, "cm_a")
    void_dismissed = api.post(f"{CASES}/{case.id}/review", headers=manager, json={
        "outcome": "dismissed", "comment": "正常", "void_attribution": True})
    assert void_dismissed.json()["code"] == "risk_void_needs_confirmation"
    done = api.post(f"{CASES}/{case.id}/review", headers=manager,
                    json={"outcome": "dismissed", "comment": "客户自行提前到场"})
    assert done.json()["state"] == "dismissed" and done.json()["referral_state"] == "confirmed"

    policy = api.get(f"/api/v1/channel/projects/{project}/risk-policy", headers=manager).json()
    status = {c["code"]: c["status"] for c in policy["checks"]}
    assert status["late_referral"] == status["short_deal"] == status["far_signing"] == "active"
    assert status["face_before_referral"] == status["face_unregistered"] == "active"
    assert policy["appeal_deadline_days"] == 7
