"""Face signals in the risk checks (渠道风控), worked scenarios written from
domain/channel-rules.md ("face before referral": a camera saw the customer at or before
the referral — a natural visitor later claimed) and issue #23 item 6 (a customer
arriving with another broker than the one who referred them; visits never registered at
reception). Each only raises a case with the sighting timeline; no owner changes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.channel.models import Referral
from cloud.channel.risk_models import RiskCase
from cloud.jobs.registry import jobs
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI, as_utc, shanghai_date, utcnow
from tests.cloud import audit_rows, signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.face_world import CONSENT, SIGHTED, consent, send, sighted
from tests.cloud.risk_world import add_customer, add_visit

FACE_CHECKS = ("face_before_referral", "face_other_broker", "face_unregistered")


def _refer(api: TestClient, broker: str, project_id: int, phone: str) -> dict[str, Any]:
    answer = refer(api, signed_in(api, broker), project_id, phone)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _face_cases(db: Session, referral_id: int | None = None) -> list[RiskCase]:
    db.rollback()
    query = select(RiskCase).where(col(RiskCase.check_code).in_(FACE_CHECKS))
    if referral_id is not None:
        query = query.where(RiskCase.referral_id == referral_id)
    return list(db.exec(query).all())


def _registered(db: Session, settings: CloudSettings, cw: ChannelWorld, phone: str,
                at: datetime) -> Visit:
    """The visitor registered at reception at `at` (a new customer of site A's project)."""
    customer = add_customer(db, settings, project_id=cw.project("site-a"), phone=phone,
                            first_at=at)
    return add_visit(db, customer, at)


def _walk_in(db: Session, settings: CloudSettings, cw: ChannelWorld, ref: uuid.UUID,
             *times: datetime, subject: str = "visitor") -> None:
    """The camera saw the face `ref` at each of `times` (one sighting each)."""
    send(db, settings, cw.sales["site-a"], "site-a", [
        (SIGHTED, sighted(ref, at, at + timedelta(minutes=2), 3, subject=subject))
        for at in times])


def _consents(db: Session, settings: CloudSettings, cw: ChannelWorld, ref: uuid.UUID,
              visit: Visit, at: datetime) -> None:
    send(db, settings, cw.sales["site-a"], "site-a", [(CONSENT, consent(ref, visit.id, at))])


def _scan(db: Session, settings: CloudSettings) -> dict[str, Any]:
    found = jobs()["channel.risk_scan"].run(db, settings)
    db.commit()
    return found


def test_a_natural_visitor_seen_before_the_referral_raises_a_review_case(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    # 10:00 a visitor walks in and looks around without registering (the camera keeps a
    # temporary identity); at 11:00 a broker refers the number; at 12:00 the visitor
    # registers and gives face consent: the appliance links the same face.
    claimed = _refer(api, "broker_a1", project, "13700003001")
    referred_at = as_utc(datetime.fromisoformat(claimed["created_at"]))
    walked_in = uuid.uuid4()
    _walk_in(db, settings, cw, walked_in, referred_at - timedelta(hours=1))
    visit = _registered(db, settings, cw, "13700003001", referred_at + timedelta(hours=1))
    _consents(db, settings, cw, walked_in, visit, referred_at + timedelta(hours=1))
    _walk_in(db, settings, cw, walked_in, referred_at + timedelta(hours=1), subject="customer")
    # Boundary: seen exactly at the referral time counts ("at or before").
    at_once = _refer(api, "broker_a2", project, "13700003002")
    at_once_time = as_utc(datetime.fromisoformat(at_once["created_at"]))
    same = uuid.uuid4()
    _walk_in(db, settings, cw, same, at_once_time - timedelta(minutes=2))
    visit2 = _registered(db, settings, cw, "13700003002", at_once_time + timedelta(hours=2))
    _consents(db, settings, cw, same, visit2, at_once_time + timedelta(hours=2))
    # Seen only after the referral (the broker brought them): nothing.
    honest = _refer(api, "broker_b1", project, "13700003003")
    honest_time = as_utc(datetime.fromisoformat(honest["created_at"]))
    later = uuid.uuid4()
    _walk_in(db, settings, cw, later, honest_time + timedelta(hours=2))
    visit3 = _registered(db, settings, cw, "13700003003", honest_time + timedelta(hours=2))
    _consents(db, settings, cw, later, visit3, honest_time + timedelta(hours=2))

    _scan(db, settings)
    [case] = _face_cases(db, claimed["id"])
    assert (case.check_code, case.stage, case.severity) == ("face_before_referral", "visit",
                                                             "review")
    kinds = [i["kind"] for i in case.evidence["timeline"]]
    assert kinds == ["sighting", "referral"]  # the after-referral sighting is not evidence
    item = case.evidence["timeline"][0]
    assert item["person_ref"] == str(walked_in) and item["count"] == 3
    assert "image" not in item and case.evidence["sightings"] == 1
    assert [c.check_code for c in _face_cases(db, at_once["id"])] == ["face_before_referral"]
    assert _face_cases(db, honest["id"]) == []
    # The case changed no owner: the referral stands as the engine decided it.
    stands = db.get(Referral, claimed["id"])
    assert stands is not None and stands.state == claimed["state"]
    # Reading the case's evidence is a read of face data: audited.
    reader = signed_in(api, "cm_a")
    assert api.get(f"/api/v1/channel/risk/cases/{case.id}", headers=reader).status_code == 200
    [read] = audit_rows(db, "faces.evidence_read")
    assert read.object_id == str(case.id)


def test_a_sighting_past_the_look_back_or_a_check_switched_off_raises_nothing(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    manager = signed_in(api, "cm_a")
    url = f"/api/v1/channel/projects/{project}/risk-policy"
    # A visit-stage check cannot block; it can be set to flag with a shorter look-back.
    blocked = api.put(url, headers=manager,
                      json={"checks": {"face_before_referral": {"action": "block"}}})
    assert blocked.status_code == 422
    assert api.put(url, headers=manager, json={"checks": {"face_before_referral": {
        "action": "flag", "params": {"lookback_days": 30}}}}).status_code == 200
    old = _refer(api, "broker_a1", project, "13700004001")
    old_time = as_utc(datetime.fromisoformat(old["created_at"]))
    ref = uuid.uuid4()
    _walk_in(db, settings, cw, ref, old_time - timedelta(days=31))
    visit = _registered(db, settings, cw, "13700004001", old_time + timedelta(hours=2))
    _consents(db, settings, cw, ref, visit, old_time + timedelta(hours=2))
    recent = _refer(api, "broker_a1", project, "13700004002")
    recent_time = as_utc(datetime.fromisoformat(recent["created_at"]))
    ref2 = uuid.uuid4()
    _walk_in(db, settings, cw, ref2, recent_time - timedelta(days=29))
    visit2 = _registered(db, settings, cw, "13700004002", recent_time + timedelta(hours=2))
    _consents(db, settings, cw, ref2, visit2, recent_time + timedelta(hours=2))
    _scan(db, settings)
    assert _face_cases(db, old["id"]) == []
    [case] = _face_cases(db, recent["id"])
    assert case.severity == "flag"
    # Off: a new claim of a walked-in visitor opens nothing.
    assert api.put(url, headers=manager, json={"checks": {"face_before_referral": {
        "action": "off"}}}).status_code == 200
    third = _refer(api, "broker_a2", project, "13700004003")
    third_time = as_utc(datetime.fromisoformat(third["created_at"]))
    ref3 = uuid.uuid4()
    _walk_in(db, settings, cw, ref3, third_time - timedelta(hours=1))
    visit3 = _registered(db, settings, cw, "13700004003", third_time + timedelta(hours=2))
    _consents(db, settings, cw, ref3, visit3, third_time + timedelta(hours=2))
    _scan(db, settings)
    assert _face_cases(db, third["id"]) == []


def test_arriving_with_another_broker_than_the_referrer_raises_a_review_case(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    other = cw.brokers["broker_b1"].id
    cases = {}
    for phone, guide, seen in (("13700005001", other, True),    # another broker, seen
                               ("13700005002", other, False),   # no camera that day
                               ("13700005003", None, True)):    # the referrer's own visit
        referral = _refer(api, "broker_a1", project, phone)
        at = as_utc(datetime.fromisoformat(referral["created_at"])) + timedelta(hours=3)
        visit = _registered(db, settings, cw, phone, at)
        if guide is not None:
            visit.broker_id, visit.guide_method = guide, "qr"
            db.add(visit)
            db.commit()
        ref = uuid.uuid4()
        _consents(db, settings, cw, ref, visit, at)
        if seen:
            _walk_in(db, settings, cw, ref, at - timedelta(minutes=5), subject="customer")
        cases[phone] = referral["id"]
    _scan(db, settings)
    [case] = _face_cases(db, cases["13700005001"])
    assert case.check_code == "face_other_broker" and case.severity == "review"
    assert case.evidence["guide_broker_id"] == other
    assert case.evidence["referral_broker_id"] == cw.brokers["broker_a1"].id
    assert [i["kind"] for i in case.evidence["timeline"]] == ["referral", "sighting", "visit"]
    assert _face_cases(db, cases["13700005002"]) == []
    assert _face_cases(db, cases["13700005003"]) == []


def test_more_faces_than_registrations_on_a_day_raises_a_site_case(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    today = shanghai_date(utcnow())
    busy, quiet = today - timedelta(days=1), today - timedelta(days=2)

    def at(day: Any, hour: int) -> datetime:
        return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI).replace(hour=hour)

    # Busy day: 2 registrations (party sizes 1 + 2 = 3 people), 6 faces → 3 unregistered,
    # past the default tolerance of 2. Quiet day: 1 registration, 3 faces → within it.
    for day, parties, faces in ((busy, (1, 2), 6), (quiet, (1,), 3)):
        for n, party in enumerate(parties):
            customer = add_customer(db, settings, project_id=cw.project("site-a"),
                                    phone=f"1370000{day.day:02d}{n:02d}", first_at=at(day, 10))
            visit = add_visit(db, customer, at(day, 10 + n))
            visit.party_size = party
            db.add(visit)
            db.commit()
        send(db, settings, cw.sales["site-a"], "site-a", [
            (SIGHTED, sighted(uuid.uuid4(), at(day, 9 + i), at(day, 9 + i)))
            for i in range(faces)])
    found = jobs()["faces.unregistered_scan"].run(db, settings)
    db.commit()
    assert found == {"checked": 2, "opened": 1}
    [case] = _face_cases(db)
    assert case.check_code == "face_unregistered" and case.severity == "review"
    assert case.referral_id is None and case.broker_id is None
    assert case.subject_key == f"site-a:{busy.isoformat()}"
    assert (case.evidence["seen"], case.evidence["registered"], case.evidence["excess"]) == (
        6, 3, 3)
    assert len(case.evidence["timeline"]) == 6
    # Run again: the same site and day is one case.
    assert jobs()["faces.unregistered_scan"].run(db, settings)["opened"] == 0
    # The reviewer sees it and may dismiss it; there is no attribution to void.
    reviewer = signed_in(api, "cm_a")
    url = f"/api/v1/channel/risk/cases/{case.id}"
    shown = api.get(url, headers=reviewer).json()
    assert shown["referral_id"] is None and shown["referral_phone_masked"] is None
    void = api.post(f"{url}/review", headers=reviewer, json={
        "outcome": "confirmed", "comment": "前台漏登", "void_attribution": True})
    assert void.status_code == 409 and void.json()["code"] == "risk_void_needs_referral"
    done = api.post(f"{url}/review", headers=reviewer,
                    json={"outcome": "dismissed", "comment": "施工人员"})
    assert done.status_code == 200, done.text
    # Another site's channel manager does not see it.
    assert api.get(url, headers=signed_in(api, "cm_b")).status_code == 404


def test_the_policy_describes_each_face_check_for_the_console_and_a_change_is_audited(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    project = cw.project("site-a")
    url = f"/api/v1/channel/projects/{project}/risk-policy"
    manager = signed_in(api, "cm_a")
    checks = {c["code"]: c for c in api.get(url, headers=manager).json()["checks"]}
    face = checks["face_before_referral"]
    assert face["faces"] is True and checks["late_referral"]["faces"] is False
    # A face check only raises cases: the console is not offered `block` for it.
    assert face["actions"] == ["off", "flag", "review"] and face["default_action"] == "review"
    assert face["param_specs"] == [{"name": "lookback_days", "label": "回看天数",
                                    "default": 90, "min": 1, "max": 365}]
    assert checks["face_unregistered"]["param_specs"][0]["label"] == "容差（人）"
    assert checks["face_other_broker"]["param_specs"] == []
    assert checks["searched_before_referral"]["actions"] == ["off", "flag", "review", "block"]
    assert checks["contested_number"]["actions"] == ["off", "flag", "review"]  # batched

    changed = api.put(url, headers=manager, json={"checks": {
        "face_unregistered": {"action": "flag", "params": {"tolerance": 5}}}})
    assert changed.status_code == 200, changed.text
    after = {c["code"]: c for c in changed.json()["checks"]}["face_unregistered"]
    assert (after["action"], after["params"]) == ("flag", {"tolerance": 5})
    [row] = audit_rows(db, "channel.risk_policy_update")
    assert row.object_id == str(project)
    assert row.detail["checks"] == {"face_unregistered": {"action": "flag",
                                                          "params": {"tolerance": 5}}}
    # Another site's channel manager neither reads nor changes it.
    other = signed_in(api, "cm_b")
    assert api.get(url, headers=other).status_code == 404
    assert api.put(url, headers=other, json={"checks": {
        "face_unregistered": {"action": "off"}}}).status_code == 404
    assert len(audit_rows(db, "channel.risk_policy_update")) == 1
