"""Protocol 2 at the cloud, on the real PostgreSQL: a seq resent with other content, the
appliance's store (epoch) and agent (instance) over time, clock samples, a cloud found
behind its appliance, and values that do not fit — each refused alone and by name."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import DataError
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.catalog.models import Project
from cloud.sales import synced_visits
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from cloud.sync import identity, provision, service, status
from cloud.sync.models import SiteLink, SyncEvent
from shared.crypto import decode_key
from shared.envelope import Envelope, Status
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.wire import EPOCH, INSTANCE

SITE = "site-i"


@pytest.fixture
def site(db: Session, settings: CloudSettings) -> tuple[bytes, int]:
    creds = provision.provision_site(db, settings=settings, site_id=SITE, name="I",
                                     projects=["一期"])
    project = db.exec(select(Project)).one()
    assert project.id is not None
    db.commit()
    return decode_key(creds.site_key), project.id


def visit(key: bytes, project: int, seq: int, phone: str = "13800000001", *,
          epoch: uuid.UUID = EPOCH, instance: uuid.UUID = INSTANCE,
          sent_at: datetime | None = None, **payload: Any) -> Envelope:
    return Envelope(
        site_id=SITE, epoch=epoch, instance=instance, seq=seq, event_id=uuid.uuid4(),
        type=VISIT_REGISTERED, occurred_at=utcnow() - timedelta(minutes=1),
        sent_at=sent_at or utcnow(),
        payload={"visit_id": str(uuid.uuid4()), "project_id": project, "phone": phone,
                 "party_size": 1, **payload},
    ).signed(key)


def apply(db: Session, settings: CloudSettings, *envelopes: Envelope,
          at: datetime | None = None) -> service.ApplyResult:
    result = service.apply_batch(db, settings=settings, site_id=SITE, envelopes=envelopes,
                                 received_at=at)
    db.commit()
    return result


def report(db: Session, settings: CloudSettings, key: bytes, *, epoch: uuid.UUID = EPOCH,
           instance: uuid.UUID = INSTANCE, live: bool = True, at: datetime | None = None,
           **fields: Any) -> service.ApplyResult:
    now = at or utcnow()
    message = Status(site_id=SITE, epoch=epoch, instance=instance, state="online",
                     edge_time=fields.pop("edge_time", now), **fields).signed(key)
    result = status.record_status(db, settings=settings, status=message, received_at=now,
                                  live=live)
    db.commit()
    return result


def link(db: Session) -> SiteLink:
    db.rollback()
    found = db.get(SiteLink, SITE, populate_existing=True)
    assert found is not None
    return found


def audits(db: Session, action: str) -> list[AuditLog]:
    return list(db.exec(select(AuditLog).where(AuditLog.action == action)
                        .order_by(col(AuditLog.id))).all())


def test_the_same_seq_with_other_content_is_a_named_conflict_and_the_first_stays(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    key, project = site
    first = visit(key, project, 1, "13800000001")
    apply(db, settings, first)
    # A resend of the same event (a new sent_at, signature and agent) is a duplicate.
    again = first.model_copy(update={"sent_at": utcnow(), "instance": INSTANCE}).signed(key)
    result = apply(db, settings, again)
    assert (result.duplicates, result.rejected) == (1, [])
    # Another event under seq 1 (a cloned appliance, a restored store) is refused by name.
    other = visit(key, project, 1, "13900000009")
    result = apply(db, settings, other)
    assert [(r.seq, r.reason, r.consumed) for r in result.rejected] == [
        (1, "seq_conflict", True)]
    apply(db, settings, visit(key, project, 1, "13700000007"))  # a second one: one alarm
    assert len(audits(db, "sync.seq_conflict")) == 1 and link(db).conflict_alarm
    [kept] = db.exec(select(Visit)).all()
    assert kept.id == first.payload["visit_id"]
    # Also against an event parked above a hole.
    held = visit(key, project, 3, "13600000003")
    apply(db, settings, held)
    result = apply(db, settings, visit(key, project, 3, "13500000005"))
    assert [r.reason for r in result.rejected] == ["seq_conflict"]


def test_the_first_epoch_is_enrolled_another_is_refused_until_re_enrolment(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    key, project = site
    apply(db, settings, *(visit(key, project, n, f"1380000000{n}") for n in (1, 2, 3)))
    assert link(db).epoch == str(EPOCH)
    assert [a.detail["epoch"] for a in audits(db, "sync.epoch_enrolled")] == [str(EPOCH)]
    # The appliance was re-imaged: a fresh store starts again at seq 1.
    fresh = uuid.uuid4()
    result = apply(db, settings, visit(key, project, 1, "13900000001", epoch=fresh))
    assert [(r.reason, r.consumed) for r in result.rejected] == [("epoch_mismatch", False)]
    assert result.epoch == str(EPOCH)  # the ack says whose position it gives
    answer = report(db, settings, key, epoch=fresh, last_acked_seq=0)
    assert [r.reason for r in answer.rejected] == ["epoch_mismatch"]
    assert link(db).refused_epoch == str(fresh)
    assert len(audits(db, "sync.epoch_refused")) == 1  # audited, not once per message
    assert len(db.exec(select(Visit)).all()) == 3

    identity.allow_reenrol(db, link(db), actor="cli")
    db.commit()
    answer = report(db, settings, key, epoch=fresh, last_acked_seq=0)
    assert answer.rejected == [] and answer.epoch == str(fresh)
    assert (link(db).epoch, link(db).last_applied_seq, link(db).refused_epoch) == (
        str(fresh), 0, None)
    result = apply(db, settings, *(visit(key, project, n, f"1390000000{n}", epoch=fresh)
                                   for n in (1, 2)))
    assert (result.acked_seq, result.rejected) == (2, [])
    rows = db.exec(select(SyncEvent.epoch, SyncEvent.seq).order_by(col(SyncEvent.id))).all()
    assert rows == [(str(EPOCH), 1), (str(EPOCH), 2), (str(EPOCH), 3),
                    (str(fresh), 1), (str(fresh), 2)]  # nothing of the old store overwritten
    assert len(db.exec(select(Visit)).all()) == 5
    [changed] = audits(db, "sync.epoch_changed")
    assert changed.detail == {"previous": str(EPOCH), "epoch": str(fresh), "continues_from": 0}


def test_two_agents_on_one_credential_raise_the_twin_alarm_and_the_newer_is_refused(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    key, project = site
    older, newer = uuid.uuid4(), uuid.uuid4()
    apply(db, settings, visit(key, project, 1, "13800000001", instance=older))
    apply(db, settings, visit(key, project, 2, "13800000002", instance=newer))  # a restart?
    assert link(db).instance == str(newer) and not link(db).twin_alarm
    # …no: the older one is still talking. Two agents run with this site's credentials.
    result = apply(db, settings, visit(key, project, 3, "13800000003", instance=older))
    assert result.rejected == [] and link(db).twin_alarm
    assert (link(db).instance, link(db).refused_instance) == (str(older), str(newer))
    refused = apply(db, settings, visit(key, project, 4, "13800000004", instance=newer))
    assert [(r.reason, r.consumed) for r in refused.rejected] == [("instance_conflict", False)]
    assert [r.reason for r in report(db, settings, key, instance=newer).rejected] == [
        "instance_conflict"]
    [alarm] = audits(db, "sync.twin_detected")
    assert alarm.detail == {"kept": str(older), "refused": str(newer)}
    # The operator keeps the newer appliance (and switches the older one off).
    identity.resolve_twin(db, link(db), str(newer), actor="cli")
    db.commit()
    assert apply(db, settings, visit(key, project, 4, "13800000004", instance=newer)
                 ).rejected == []
    assert [r.reason for r in apply(db, settings, visit(
        key, project, 5, "13800000005", instance=older)).rejected] == ["instance_conflict"]


def test_a_restart_is_not_a_twin(db: Session, settings: CloudSettings,
                                 site: tuple[bytes, int]) -> None:
    key, project = site
    first, second = uuid.uuid4(), uuid.uuid4()
    report(db, settings, key, instance=first)
    report(db, settings, key, instance=second)
    # The broker replays the first agent's retained status, or publishes its last will
    # when the second takes the connection over: neither is a running agent.
    report(db, settings, key, instance=first, live=False)
    assert apply(db, settings, visit(key, project, 1, instance=second)).rejected == []
    assert not link(db).twin_alarm and audits(db, "sync.twin_detected") == []


def test_a_late_frame_of_the_agent_that_ended_is_applied_and_is_not_a_twin(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    # A proxy (or the broker's queue) delivers frames of the old agent after the new one
    # has started: sent before it, they are no evidence of a second agent.
    key, project = site
    old, new = uuid.uuid4(), uuid.uuid4()
    start = utcnow()
    apply(db, settings, visit(key, project, 1, "13800000001", instance=old, sent_at=start))
    report(db, settings, key, instance=new, edge_time=start + timedelta(seconds=30),
           backlog=1, last_acked_seq=1, next_seq=3)
    late = apply(db, settings, visit(key, project, 2, "13800000002", instance=old,
                                     sent_at=start + timedelta(seconds=10)))
    assert late.rejected == [] and link(db).last_applied_seq == 2  # same store: applied
    report(db, settings, key, instance=old, edge_time=start + timedelta(seconds=20),
           backlog=7, last_acked_seq=1, next_seq=3)
    assert link(db).edge_backlog == 1  # the late status says nothing about today
    assert (link(db).instance, link(db).twin_alarm) == (str(new), False)
    assert apply(db, settings, visit(key, project, 3, "13800000003", instance=new)
                 ).rejected == []
    assert audits(db, "sync.twin_detected") == []
    # The old agent sending anew after the new one started is a twin after all.
    apply(db, settings, visit(key, project, 4, "13800000004", instance=old,
                              sent_at=utcnow() + timedelta(seconds=40)))
    assert link(db).twin_alarm and link(db).refused_instance == str(new)


def test_late_frames_are_told_apart_from_twins_when_the_clock_was_stepped_at_a_restart(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    # The old agent ran two days ahead; the new one started with the clock put right. Its
    # late frames carry the old clock: brought to ours, they were sent before the switch.
    key, project = site
    old, new, behind = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start, ahead = utcnow(), timedelta(days=2)
    report(db, settings, key, instance=old, at=start, edge_time=start + ahead)
    apply(db, settings, visit(key, project, 1, instance=old, sent_at=start + ahead), at=start)
    report(db, settings, key, instance=new, at=start + timedelta(seconds=20),
           edge_time=start + timedelta(seconds=20))
    late = visit(key, project, 2, "13800000002", instance=old,
                 sent_at=start + ahead + timedelta(seconds=5))
    assert apply(db, settings, late, at=start + timedelta(seconds=25)).rejected == []
    assert (link(db).instance, link(db).twin_alarm) == (str(new), False)
    # A new agent whose clock runs behind still takes over: it is no late frame.
    report(db, settings, key, instance=behind, at=start + timedelta(seconds=40),
           edge_time=start - timedelta(hours=1))
    assert (link(db).instance, link(db).twin_alarm) == (str(behind), False)
    assert audits(db, "sync.twin_detected") == []


def test_clock_skew_comes_only_from_the_edges_fresh_round_trip(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    key, _ = site
    now = utcnow()
    # A status that waited a minute in a queue (an outage) is no clock sample.
    report(db, settings, key, edge_time=now - timedelta(seconds=60), at=now)
    assert link(db).clock_skew_seconds is None and not link(db).clock_skew_alarm
    # A sample measured 20 minutes before the status was sent is stale.
    report(db, settings, key, edge_time=now, at=now, clock_skew_seconds=900.0,
           skew_sampled_at=now - timedelta(minutes=20))
    assert link(db).clock_skew_seconds is None
    # A fresh round trip: taken, and a real skew raises the alarm once.
    report(db, settings, key, edge_time=now, at=now, clock_skew_seconds=900.0,
           skew_sampled_at=now - timedelta(seconds=2))
    assert link(db).clock_skew_seconds == 900.0 and link(db).clock_skew_alarm
    assert len(audits(db, "sync.clock_skew")) == 1
    answer = report(db, settings, key, edge_time=now, at=now)
    assert (answer.echo, answer.instance) == (now, INSTANCE)  # for the edge's next sample


def test_a_status_holding_acks_we_lost_raises_cloud_behind(
    db: Session, settings: CloudSettings, site: tuple[bytes, int]
) -> None:
    key, project = site
    apply(db, settings, visit(key, project, 1))
    report(db, settings, key, last_acked_seq=40, next_seq=41)
    assert link(db).cloud_behind_alarm and len(audits(db, "sync.cloud_behind")) == 1
    report(db, settings, key, last_acked_seq=1, next_seq=2)
    assert not link(db).cloud_behind_alarm


def test_a_value_the_database_cannot_hold_rejects_that_event_alone(
    db: Session, settings: CloudSettings, site: tuple[bytes, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, project = site
    real = synced_visits.record_synced_visits

    def refuses_one_phone(*args: Any, **kwargs: Any) -> Any:
        if any(v.event.phone == "13999999999" for v in kwargs["visits"]):
            raise DataError("INSERT", {}, Exception("value too long"))
        return real(*args, **kwargs)

    monkeypatch.setattr(synced_visits, "record_synced_visits", refuses_one_phone)
    result = apply(db, settings, visit(key, project, 1, "13800000001"),
                   visit(key, project, 2, "13999999999"), visit(key, project, 3, "13700000003"))
    assert result.acked_seq == 3
    assert [(r.seq, r.reason) for r in result.rejected] == [(2, "invalid_value")]
    assert len(db.exec(select(Visit)).all()) == 2


@pytest.mark.parametrize("bad", [{"project_id": "1"}, {"party_size": True},
                                 {"party_size": 2.0}, {"consultant_id": 2**31}])
def test_event_payloads_are_strict_too(db: Session, settings: CloudSettings,
                                       site: tuple[bytes, int], bad: dict[str, Any]) -> None:
    key, project = site
    result = apply(db, settings, visit(key, project, 1, **bad))
    assert [(r.seq, r.reason, r.consumed) for r in result.rejected] == [
        (1, "invalid_payload", True)]
