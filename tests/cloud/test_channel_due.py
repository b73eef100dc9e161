"""The scheduled re-decision (channel.redecide_due): a referral follows its facts — a
visit synced after it, a window that ended, a rule version that took effect — once per
change of facts, never again for the same ones."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.channel.due import redecide_due
from cloud.channel.models import Referral
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.events import VISIT_REGISTERED
from shared.timeutil import as_utc, utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.sales_world import apply, envelope

NEW = "13612345678"


def _visit(db: Session, settings: CloudSettings, cw: ChannelWorld, phone: str) -> None:
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": str(uuid.uuid4()), "project_id": site.project_id, "phone": phone,
        "party_size": 1, "consultant_id": cw.sales["consult_a"]})])


def _row(db: Session, referral_id: int) -> Referral:
    db.expire_all()
    row = db.get(Referral, referral_id)
    assert row is not None
    return row


def test_a_visit_synced_after_the_referral_is_judged_by_the_job(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW).json()
    assert redecide_due(db, settings=settings, now=utcnow()).checked == 0

    _visit(db, settings, cw, NEW)  # at the door within the lead time: 防截客
    job = jobs()["channel.redecide_due"]
    assert job.every <= timedelta(minutes=1)
    summary = job.run(db, settings)
    db.commit()
    assert summary == {"checked": 1, "changed": 1, "more": False}
    row = _row(db, referral["id"])
    assert (row.state, row.reason_code) == ("invalid", "lead_time_not_met")
    assert job.run(db, settings)["checked"] == 0  # invalid is not live
    assert db.exec(select(AuditLog).where(
        AuditLog.action == "channel.referral_redecide")).one().object_id == str(row.id)


def test_a_window_that_ended_is_judged_once(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    referral = refer(api, signed_in(api, "broker_a1"), cw.project("site-a"), NEW).json()
    assert redecide_due(db, settings=settings, now=utcnow() + timedelta(hours=71)
                        ).checked == 0
    later = utcnow() + timedelta(hours=73)
    run = redecide_due(db, settings=settings, now=later)
    db.commit()
    assert (run.checked, run.changed) == (1, 1)
    assert (_row(db, referral["id"]).state, _row(db, referral["id"]).reason_code) == (
        "expired", "visit_overdue")
    assert redecide_due(db, settings=settings, now=later + timedelta(hours=1)).checked == 0


def test_a_rule_version_moves_the_window_of_a_live_referral_and_nothing_else(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    project = cw.project("site-a")
    referral = refer(api, signed_in(api, "broker_a1"), project, NEW).json()
    before = _row(db, referral["id"]).protection_until
    assert before is not None
    manager = signed_in(api, "cm_a")

    # A change that moves nothing (a reminder) is judged once and then left alone.
    response = api.post(f"/api/v1/channel/projects/{project}/rules", headers=manager,
                        json={"rules": {"warnings": {"referral": "PT2H"}}})
    assert response.status_code == 201, response.text
    run = redecide_due(db, settings=settings, now=utcnow())
    db.commit()
    assert (run.checked, run.changed) == (1, 0)
    assert redecide_due(db, settings=settings, now=utcnow()).checked == 0

    # A longer referral window applies to a customer still inside it.
    response = api.post(f"/api/v1/channel/projects/{project}/rules", headers=manager,
                        json={"rules": {"referral_protection": {
                            "kind": "duration", "length": "PT96H"}}})
    assert response.status_code == 201, response.text
    run = redecide_due(db, settings=settings, now=utcnow())
    db.commit()
    assert (run.checked, run.changed) == (1, 1)
    row = _row(db, referral["id"])
    assert row.state == "confirmed"
    assert row.protection_until is not None
    assert as_utc(row.protection_until) - as_utc(before) == timedelta(hours=24)


def test_a_run_takes_the_oldest_judgements_first_and_says_more_are_due(
    api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings
) -> None:
    headers = signed_in(api, "broker_a1")
    ids = [refer(api, headers, cw.project("site-a"), f"1361234567{i}").json()["id"]
           for i in range(3)]
    later = utcnow() + timedelta(hours=73)
    first = redecide_due(db, settings=settings, now=later, limit=2)
    db.commit()
    assert (first.checked, first.more) == (2, True)
    assert [_row(db, i).state for i in ids] == ["expired", "expired", "confirmed"]
    second = redecide_due(db, settings=settings, now=later, limit=2)
    assert (second.checked, second.more) == (1, False)
