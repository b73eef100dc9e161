"""The referral-stage risk checks in the job channel.risk_referral_scan (ADR 0049), on real
PostgreSQL: worked scenarios of the checks across referrals (a broker's burst, a number
many brokers refer), refused referrals checked too, a look-up that reaches the cloud after
the referral it preceded, and each case opened once however often the job runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import risk_cases
from cloud.channel.models import Referral
from cloud.channel.risk_models import RiskCase
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.phone import mask_phone
from shared.timeutil import iso, utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer

JOB = "channel.risk_referral_scan"


def _refer(api: TestClient, broker: str, project: int, phone: str) -> dict[str, Any]:
    answer = refer(api, signed_in(api, broker), project, phone)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _scan(db: Session, settings: CloudSettings) -> dict[str, Any]:
    found = jobs()[JOB].run(db, settings)
    db.commit()
    return found


def _cases(db: Session, code: str) -> list[RiskCase]:
    db.rollback()
    return list(db.exec(select(RiskCase).where(RiskCase.check_code == code)
                        .order_by(col(RiskCase.id))).all())


def _policy(api: TestClient, project: int, checks: dict[str, Any]) -> Any:
    return api.put(f"/api/v1/channel/projects/{project}/risk-policy",
                   headers=signed_in(api, "cm_a"), json={"checks": checks})


def test_the_job_runs_every_minute_and_its_checks_cannot_block(
        api: TestClient, cw: ChannelWorld) -> None:
    assert jobs()[JOB].every == timedelta(minutes=1)
    for code in ("broker_burst", "contested_number"):
        refused = _policy(api, cw.project("site-a"), {code: {"action": "block"}})
        assert refused.status_code == 422 and refused.json()["code"] == "risk_policy_invalid"
    listed = {c["code"]: c for c in _policy(api, cw.project("site-a"), {}).json()["checks"]}
    assert listed["broker_burst"]["batched"] and listed["contested_number"]["batched"]
    assert not listed["searched_before_referral"]["batched"]


def test_a_burst_opens_one_case_on_the_referral_past_the_limit(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    # max 3 referrals in 60 minutes: the fourth crosses it; the fifth is the same burst.
    project = cw.project("site-a")
    assert _policy(api, project, {"broker_burst": {
        "action": "review", "params": {"max_referrals": 3, "window_minutes": 60}}}
                   ).status_code == 200
    made = [_refer(api, "broker_a1", project, f"1370001100{i}") for i in range(5)]
    _refer(api, "broker_a2", project, "13700011009")  # another broker's: not counted
    assert _cases(db, "broker_burst") == []  # nothing in the requests
    assert _scan(db, settings) == {"checked": 6, "opened": 1}
    (case,) = _cases(db, "broker_burst")
    assert (case.referral_id, case.severity, case.stage) == (made[3]["id"], "review", "referral")
    assert case.evidence["referrals"] == 4
    assert [i["referral_id"] for i in case.evidence["timeline"]] == [m["id"] for m in made[:4]]
    # Run again (inside the late-commit margin, the same referrals): nothing new.
    assert _scan(db, settings)["opened"] == 0

    # Outside the window the count starts again: the first four moved two hours back,
    # the fifth alone in its hour with the next three — which cross the limit anew.
    db.execute(update(Referral).where(col(Referral.id).in_([m["id"] for m in made[:4]]))
               .values(created_at=utcnow() - timedelta(hours=2)))
    db.commit()
    later = [_refer(api, "broker_a1", project, f"1370001200{i}") for i in range(3)]
    assert _scan(db, settings)["opened"] == 1
    assert [c.referral_id for c in _cases(db, "broker_burst")] == [made[3]["id"],
                                                                   later[2]["id"]]


def test_a_number_many_brokers_refer_is_one_review_case_refused_referrals_included(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    # max_brokers 3 (default): the fourth broker's referral crosses it. Every referral
    # after the first is refused (已被其他渠道报备), and refused referrals are checked.
    project = cw.project("site-a")
    phone = "13700013001"
    made = [_refer(api, broker, project, phone)
            for broker in ("broker_a1", "broker_b1", "referrer", "broker_a2")]
    assert [m["state"] for m in made[1:]] == ["invalid"] * 3
    assert _cases(db, "contested_number") == []
    _scan(db, settings)
    (case,) = _cases(db, "contested_number")
    assert (case.referral_id, case.severity) == (made[3]["id"], "review")
    assert len(case.evidence["brokers"]) == 4
    # The same broker again adds no broker; a case is not opened twice.
    _refer(api, "broker_a1", project, phone)
    _scan(db, settings)
    assert len(_cases(db, "contested_number")) == 1
    # Switched off: nothing is checked.
    assert _policy(api, project, {"contested_number": {"action": "off"}}).status_code == 200
    for broker in ("broker_a1", "broker_b1", "referrer", "broker_a2"):
        _refer(api, broker, project, "13700013002")
    _scan(db, settings)
    assert [c.referral_id for c in _cases(db, "contested_number")] == [made[3]["id"]]


def test_a_look_up_synced_after_the_referral_is_still_found(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    project = cw.project("site-a")
    phone = "13700014001"
    referral = _refer(api, "broker_a1", project, phone)
    # The referral was made two hours ago (older than the job's margin) …
    db.execute(update(Referral).where(col(Referral.id) == referral["id"])
               .values(created_at=utcnow() - timedelta(hours=2)))
    db.commit()
    assert risk_cases.scan_referrals_at(db, settings, utcnow())["opened"] == 0
    db.commit()
    # … and the kiosk's look-up of three hours ago reaches the cloud only now.
    audit_service.record(db, action="customer.lookup", actor="kiosk:site-a",
                         object_type="customer", object_id="",
                         detail={"project_id": project, "phone_masked": mask_phone(phone),
                                 "phone_bidx": settings.blind_index.phone(phone),
                                 "looked_up_at": iso(utcnow() - timedelta(hours=3))})
    db.commit()
    assert _scan(db, settings) == {"checked": 1, "opened": 1}
    (case,) = _cases(db, "searched_before_referral")
    assert case.referral_id == referral["id"]
    assert [i["kind"] for i in case.evidence["timeline"]] == ["lookup", "referral"]
