"""The risk scan's watermark (channel.risk_scan), on real PostgreSQL: a run checks only the
referrals whose facts arrived since the previous one, and running again opens nothing
twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.channel import risk_cases
from cloud.channel.risk_models import RiskCase, RiskPolicy, ScanWatermark
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.risk_world import add_customer, add_visit

LATE = timedelta(minutes=45)  # lead time 30 min < gap ≤ 90 min: late_referral fires


def _refer(api: TestClient, cw: ChannelWorld, phone: str) -> dict[str, Any]:
    answer = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), phone)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _at(referral: dict[str, Any]) -> datetime:
    return as_utc(datetime.fromisoformat(referral["created_at"]))


def test_two_runs_check_only_what_changed_and_open_each_case_once(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    first = _refer(api, cw, "13700009001")
    second = _refer(api, cw, "13700009002")
    early = add_customer(db, settings, project_id=cw.project("site-a"), phone="13700009001",
                         first_at=_at(first) + LATE)
    add_visit(db, early, _at(first) + LATE)
    # The job's clock is an hour ahead, so the facts above are older than any margin.
    start = utcnow() + timedelta(hours=1)

    run1 = risk_cases.scan_at(db, settings, start)
    db.commit()
    assert run1 == {"checked": 2, "opened": 1}
    assert db.get(ScanWatermark, "channel.risk_scan").scanned_through == start  # type: ignore[union-attr]

    # Nothing arrived since: nothing is checked.
    assert risk_cases.scan_at(db, settings, start + timedelta(minutes=10)) == {
        "checked": 0, "opened": 0}
    db.commit()

    # The second customer's visit reaches the cloud after that run: only they are checked.
    late = add_customer(db, settings, project_id=cw.project("site-a"), phone="13700009002",
                        first_at=_at(second) + LATE)
    visit = add_visit(db, late, _at(second) + LATE)
    visit.created_at = start + timedelta(minutes=17)
    db.add(visit)
    db.commit()
    run3 = risk_cases.scan_at(db, settings, start + timedelta(minutes=20))
    db.commit()
    assert run3 == {"checked": 1, "opened": 1}
    # Again, inside the late-commit margin: the same referral is looked at, no new case.
    assert risk_cases.scan_at(db, settings, start + timedelta(minutes=21)) == {
        "checked": 1, "opened": 0}
    db.commit()
    cases = db.exec(select(RiskCase.referral_id, RiskCase.check_code)).all()
    assert sorted(cases) == [(first["id"], "late_referral"), (second["id"], "late_referral")]


def test_a_changed_risk_policy_rechecks_its_projects_referrals(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    referral = _refer(api, cw, "13700009003")
    customer = add_customer(db, settings, project_id=cw.project("site-a"), phone="13700009003",
                            first_at=_at(referral) + LATE)
    add_visit(db, customer, _at(referral) + LATE)
    manager = signed_in(api, "cm_a")
    url = f"/api/v1/channel/projects/{cw.project('site-a')}/risk-policy"
    off = api.put(url, headers=manager, json={"checks": {"late_referral": {"action": "off"}}})
    assert off.status_code == 200, off.text
    start = utcnow() + timedelta(hours=1)
    assert risk_cases.scan_at(db, settings, start) == {"checked": 1, "opened": 0}
    db.commit()
    on = api.put(url, headers=manager, json={"checks": {"late_referral": {"action": "flag"}}})
    assert on.status_code == 200, on.text
    db.rollback()
    policy = db.get(RiskPolicy, cw.project("site-a"))
    assert policy is not None
    policy.updated_at = start + timedelta(minutes=5)
    db.add(policy)
    db.commit()
    assert risk_cases.scan_at(db, settings, start + timedelta(minutes=10)) == {
        "checked": 1, "opened": 1}
