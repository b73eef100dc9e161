"""apply_batch on the real PostgreSQL: holes, alarms, the same-day rule, protection."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cloud.audit.models import AuditLog
from cloud.catalog.models import Project
from cloud.sales import synced_visits
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from cloud.sync import provision, service, watch
from cloud.sync.models import SiteLink, SyncEvent, SyncPending
from shared.crypto import decode_key
from shared.envelope import Envelope
from shared.events import VISIT_REGISTERED
from shared.rules import PROTECTION_DAYS_DEFAULT
from shared.timeutil import SHANGHAI, utcnow
from tests.wire import EPOCH, INSTANCE


def setup_site(db: Session, settings: CloudSettings) -> tuple[bytes, int]:
    creds = provision.provision_site(db, settings=settings, site_id="site-a", name="A",
                                     projects=["一期"])
    project = db.exec(select(Project)).one()
    assert project.id is not None
    return decode_key(creds.site_key), project.id


def last_noon() -> datetime:
    """The latest Beijing noon: times counted back from it fall on the same days whatever
    the hour the suite runs (from now, "two days ago" and "two days ago plus 30 minutes"
    straddle midnight for half an hour a day)."""
    now = utcnow().astimezone(SHANGHAI)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon <= now else noon - timedelta(days=1)


def env(key: bytes, seq: int, project_id: int, phone: str, ago: timedelta) -> Envelope:
    return Envelope(
        epoch=EPOCH, instance=INSTANCE,
        site_id="site-a", seq=seq, event_id=uuid.uuid4(), type=VISIT_REGISTERED,
        occurred_at=last_noon() - ago, sent_at=utcnow(),
        payload={"visit_id": str(uuid.uuid4()), "project_id": project_id, "phone": phone,
                 "party_size": 1},
    ).signed(key)


def test_a_hole_that_does_not_heal_raises_one_alarm_by_the_clock(
    db: Session, settings: CloudSettings
) -> None:
    """Nothing else arrives after the hole opens: the watcher's clock raises the alarm
    (once), marks the site stalled and asks again — every ASK_AGAIN_EVERY, not more."""
    key, project = setup_site(db, settings)
    t0 = utcnow()
    first = service.apply_batch(db, settings=settings, site_id="site-a", received_at=t0,
                                envelopes=[env(key, 2, project, "13800000002", timedelta(0))])
    assert (first.acked_seq, first.resend_from, first.held) == (0, 1, 1)
    asked: dict[str, datetime] = {}
    soon = t0 + timedelta(seconds=settings.sync_gap_alarm_seconds - 5)
    assert watch.overdue_gaps(db, settings, soon, asked) == []
    late = t0 + timedelta(seconds=settings.sync_gap_alarm_seconds + 5)
    [again] = watch.overdue_gaps(db, settings, late, asked)
    assert (again.site_id, again.acked_seq, again.resend_from) == ("site-a", 0, 1)
    assert watch.overdue_gaps(db, settings, late + timedelta(seconds=5), asked) == []
    assert len(watch.overdue_gaps(db, settings, late + watch.ASK_AGAIN_EVERY, asked)) == 1
    db.commit()  # audit rows join the log as their transaction commits
    alarms = db.exec(select(AuditLog).where(AuditLog.action == "sync.gap_unhealed")).all()
    assert len(alarms) == 1
    link = db.get(SiteLink, "site-a")
    assert link is not None and link.gap_alarm and link.stalled
    later = late
    for n in (3, 4):
        service.apply_batch(db, settings=settings, site_id="site-a", received_at=later,
                            envelopes=[env(key, n, project, f"1380000000{n}", timedelta(0))])
    healed = service.apply_batch(db, settings=settings, site_id="site-a", received_at=later,
                                 envelopes=[env(key, 1, project, "13800000001", timedelta(0))])
    assert (healed.acked_seq, healed.resend_from) == (4, None)
    link = db.get(SiteLink, "site-a")
    assert link is not None and not link.gap_alarm and link.gap_since is None
    assert not link.stalled
    assert db.exec(select(SyncPending)).all() == []


def test_same_day_is_one_visit_and_a_return_visit_restarts_protection(
    db: Session, settings: CloudSettings
) -> None:
    key, project = setup_site(db, settings)
    service.apply_batch(db, settings=settings, site_id="site-a", envelopes=[
        env(key, 1, project, "13900000001", timedelta(days=3)),
        env(key, 2, project, "139 0000 0001", timedelta(days=3) - timedelta(minutes=5)),
    ])
    customer = db.exec(select(Customer)).one()
    assert customer.visit_count == 1 and len(db.exec(select(Visit)).all()) == 1
    first_protection = customer.protection_until
    result = service.apply_batch(db, settings=settings, site_id="site-a", envelopes=[
        env(key, 3, project, "13900000001", timedelta(minutes=1))])
    assert result.acked_seq == 3
    db.refresh(customer)
    visits = db.exec(select(Visit).order_by(Visit.event_seq)).all()
    assert [v.is_first_visit for v in visits] == [True, False]
    assert customer.visit_count == 2 and customer.protection_until > first_protection
    assert abs((customer.protection_until - visits[1].occurred_at)
               - timedelta(days=PROTECTION_DAYS_DEFAULT)) < timedelta(seconds=1)


def test_one_batch_applies_repeat_customers_and_falls_back_event_by_event(
    db: Session, settings: CloudSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, project = setup_site(db, settings)
    batch = [
        env(key, 1, project, "13700000001", timedelta(days=2)),
        env(key, 2, project, "13700000001", timedelta(days=2, minutes=-30)),  # same day
        env(key, 3, project, "13700000001", timedelta(hours=1)),  # a return visit
        env(key, 4, project, "13700000002", timedelta(hours=1)),
    ]
    real = synced_visits.record_synced_visits

    def conflicting_when_bulk(*args: Any, **kwargs: Any) -> Any:
        # Stands for a constraint the up-front checks could not foresee.
        if len(kwargs["visits"]) > 1:
            raise IntegrityError("INSERT", {}, Exception("unforeseen"))
        return real(*args, **kwargs)

    monkeypatch.setattr(synced_visits, "record_synced_visits", conflicting_when_bulk)
    result = service.apply_batch(db, settings=settings, site_id="site-a", envelopes=batch)
    assert result.acked_seq == 4 and result.rejected == []
    visits = db.exec(select(Visit).order_by(Visit.event_seq)).all()
    assert [(v.event_seq, v.is_first_visit) for v in visits] == [(1, True), (3, False),
                                                                  (4, True)]
    outcomes = [e.outcome for e in db.exec(select(SyncEvent).order_by(SyncEvent.seq))]
    assert outcomes == ["applied", "merged", "applied", "applied"]
    db.commit()  # audit rows join the log as their transaction commits
    audit = db.exec(select(AuditLog).where(AuditLog.action == "sync.events_applied")).one()
    assert audit.detail["seq_from"] == 1 and audit.detail["seq_to"] == 4
    assert audit.detail["merged"] == 1 and len(audit.detail["visits"]) == 3


def test_a_resent_copy_of_a_parked_event_leaves_no_phantom_hole(
    db: Session, settings: CloudSettings
) -> None:
    """Seq 2 parked above a hole arrives again with the missing seq 1 (a consumer was
    killed and the edge resent everything): applied once, and no hole is left behind."""
    key, project = setup_site(db, settings)
    two = env(key, 2, project, "13800000002", timedelta(0))
    service.apply_batch(db, settings=settings, site_id="site-a", envelopes=[two])
    result = service.apply_batch(db, settings=settings, site_id="site-a", envelopes=[
        env(key, 1, project, "13800000001", timedelta(0)), two])
    assert (result.acked_seq, result.resend_from) == (2, None)
    link = db.get(SiteLink, "site-a")
    assert link is not None and link.gap_since is None
    assert db.exec(select(SyncPending)).all() == []
    assert len(db.exec(select(Visit)).all()) == 2
