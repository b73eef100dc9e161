"""Applying a site's up-stream events exactly once, in seq order, and answering acks.

The site's link row is locked for the whole batch (SELECT … FOR UPDATE), so two sync
consumers on a shared subscription can hold events of one site at once and still
apply each seq once: contiguity comes from `seq`, never from arrival order.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project, Site
from cloud.settings import CloudSettings
from cloud.sync.handlers import ApplyContext, event_types
from cloud.sync.keys import seal_site_key, site_key
from cloud.sync.models import DownFeed, SiteLink, SyncEvent, SyncPending, SyncRejection
from shared.envelope import Ack, Envelope, ProtocolError, Status
from shared.timeutil import as_utc, utcnow

# A hole that resends have not filled by then is an incident, not a reordering.
GAP_ALARM_AFTER = timedelta(seconds=60)


class UnknownSite(ProtocolError):
    def __init__(self, site_id: str) -> None:
        super().__init__("unknown_site", site_id)


@dataclass
class ApplyResult:
    site_id: str
    acked_seq: int
    resend_from: int | None = None
    applied: int = 0
    duplicates: int = 0
    held: int = 0
    highest_seen: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def ack(self, key: bytes) -> Ack:
        return Ack(
            site_id=self.site_id, acked_seq=self.acked_seq, resend_from=self.resend_from,
            cloud_time=utcnow(), rejected=self.rejected,
        ).signed(key)


def lock_link(session: Session, site_id: str) -> SiteLink:
    link = session.exec(
        select(SiteLink).where(SiteLink.site_id == site_id).with_for_update()
    ).first()
    if link is None:
        raise UnknownSite(site_id)
    return link


def record_rejection(
    session: Session, *, topic: str, raw: bytes, error: ProtocolError,
    topic_site_id: str | None = None, envelope: Envelope | None = None,
) -> None:
    """Kept without the payload (it may hold personal data): its hash and size only."""
    session.add(
        SyncRejection(
            topic=topic[:200], topic_site_id=topic_site_id,
            claimed_site_id=envelope.site_id if envelope else None,
            reason=error.reason, message=str(error)[:500],
            seq=envelope.seq if envelope else None,
            event_id=str(envelope.event_id) if envelope else None,
            payload_sha256=hashlib.sha256(raw).hexdigest(), payload_bytes=len(raw),
        )
    )
    audit_service.record(
        session, action="sync.reject", result="failure",
        actor=f"site:{topic_site_id}" if topic_site_id else "mqtt",
        object_type="mqtt_message", object_id=topic[:100],
        detail={"reason": error.reason, "seq": envelope.seq if envelope else None},
    )


@dataclass
class _Run:
    """What applying a contiguous run of events produces, merged into the result only
    once the whole run has been flushed."""

    events: list[SyncEvent] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    applied: dict[str, list[str]] = field(default_factory=dict)  # audit key → refs
    merged: int = 0


def _reject(run: _Run, envelope: Envelope, reason: str, event_id: str | None = None) -> None:
    """A permanently bad event still consumes its seq, or the site would stall behind it
    for ever; it is recorded and reported back in the ack."""
    run.rejected.append({"seq": envelope.seq, "event_id": str(envelope.event_id),
                         "reason": reason, "consumed": True})
    run.events.append(SyncEvent(
        site_id=envelope.site_id, seq=envelope.seq,
        event_id=event_id or str(envelope.event_id), type=envelope.type,
        outcome="rejected", detail={"reason": reason},
        occurred_at=as_utc(envelope.occurred_at),
    ))


def _apply_run(
    session: Session, settings: CloudSettings, link: SiteLink, key: bytes,
    envelopes: list[Envelope], received_at: datetime,
) -> _Run:
    """Check what every event shares (identity, type, payload, project), then hand each
    registered type its events of the run, in the types' order.

    Everything an event could fail on is checked first, so the flush meets no constraint;
    if it still does, the caller replays the run one event at a time.
    """
    run = _Run()
    types = event_types()
    ids = [str(e.event_id) for e in envelopes]
    known_events = set(session.exec(
        select(SyncEvent.event_id).where(col(SyncEvent.event_id).in_(ids))).all())
    projects = {p.id for p in session.exec(
        select(Project).where(Project.site_id == link.site_id))}
    by_type: dict[str, list[tuple[Envelope, Any]]] = {}
    for envelope in envelopes:
        event_id = str(envelope.event_id)
        if event_id in known_events:
            # The same event under a second seq would double its effect.
            _reject(run, envelope, "event_id_reused",
                    str(uuid.uuid5(envelope.event_id, str(envelope.seq))))
            continue
        known_events.add(event_id)
        event_type = types.get(envelope.type)
        if event_type is None:
            _reject(run, envelope, "unsupported_type")
            continue
        try:
            event = event_type.model.model_validate(envelope.payload)
        except ValidationError:
            _reject(run, envelope, "invalid_payload")
            continue
        if getattr(event, "project_id", None) not in projects:
            _reject(run, envelope, "project_not_in_site")
            continue
        by_type.setdefault(envelope.type, []).append((envelope, event))

    ctx = ApplyContext(session, settings, link, key, received_at)
    for name in sorted(by_type, key=lambda n: types[n].order):
        event_type, items = types[name], by_type[name]
        outcomes = event_type.apply(ctx, items)
        session.flush()  # the next type of the run reads what this one wrote
        for (envelope, _), outcome in zip(items, outcomes, strict=True):
            if outcome.outcome == "rejected":
                _reject(run, envelope, outcome.reason or "rejected")
                continue
            run.events.append(SyncEvent(
                site_id=link.site_id, seq=envelope.seq, event_id=str(envelope.event_id),
                type=envelope.type, outcome=outcome.outcome, detail=outcome.detail,
                occurred_at=as_utc(envelope.occurred_at),
            ))
            if outcome.outcome == "merged":
                run.merged += 1
            elif outcome.ref is not None:
                run.applied.setdefault(event_type.audit_key, []).append(outcome.ref)
    session.add_all(run.events)
    session.flush()
    return run


def _apply_contiguous(
    session: Session, settings: CloudSettings, link: SiteLink, key: bytes,
    envelopes: list[Envelope], received_at: datetime, result: ApplyResult,
) -> None:
    try:
        with session.begin_nested():
            runs = [_apply_run(session, settings, link, key, envelopes, received_at)]
    except IntegrityError:
        # Something the checks could not foresee: one event at a time, so only the event
        # that conflicts is rejected.
        runs = []
        for envelope in envelopes:
            try:
                with session.begin_nested():
                    runs.append(_apply_run(session, settings, link, key, [envelope],
                                           received_at))
            except IntegrityError:
                single = _Run()
                _reject(single, envelope, "conflict")
                session.add_all(single.events)
                runs.append(single)
    rejected = [r for run in runs for r in run.rejected]
    applied: dict[str, list[str]] = {t.audit_key: [] for t in event_types().values()}
    for run in runs:
        for audit_key, refs in run.applied.items():
            applied.setdefault(audit_key, []).extend(refs)
    merged = sum(run.merged for run in runs)
    link.last_applied_seq = envelopes[-1].seq
    link.last_event_at = received_at
    result.applied += len(envelopes)
    result.rejected.extend(rejected)
    # One audit record per applied run: who (the site), what (which visits, which seqs).
    audit_service.record(
        session, action="sync.events_applied", actor=f"site:{link.site_id}",
        result="failure" if rejected and not any(applied.values()) else "success",
        object_type="site", object_id=link.site_id,
        detail={"seq_from": envelopes[0].seq, "seq_to": envelopes[-1].seq, **applied,
                "merged": merged,
                "rejected": [{"seq": r["seq"], "reason": r["reason"]} for r in rejected]},
    )


def apply_batch(
    session: Session, *, settings: CloudSettings, site_id: str,
    envelopes: Iterable[Envelope], received_at: datetime | None = None,
) -> ApplyResult:
    """Apply what is contiguous, hold what is above a hole, skip what is already in.

    The caller commits, then publishes `result.ack(...)`: an ack never runs ahead of
    the commit.
    """
    received_at = received_at or utcnow()
    link = lock_link(session, site_id)
    key = site_key(settings, link)
    result = ApplyResult(site_id=site_id, acked_seq=link.last_applied_seq)
    ready: dict[int, Envelope] = {}
    for envelope in envelopes:
        if envelope.seq <= link.last_applied_seq or envelope.seq in ready:
            result.duplicates += 1
            continue
        ready[envelope.seq] = envelope
    link.highest_seen_seq = max([link.highest_seen_seq, *ready])
    held = {
        p.seq: p
        for p in session.exec(select(SyncPending).where(SyncPending.site_id == site_id)).all()
    }
    contiguous: list[Envelope] = []
    nxt = link.last_applied_seq + 1
    while True:
        if nxt in ready:
            contiguous.append(ready.pop(nxt))
        elif nxt in held:
            contiguous.append(Envelope.from_wire(held.pop(nxt).envelope.encode()))
        else:
            break
        nxt += 1
    if contiguous:
        _apply_contiguous(session, settings, link, key, contiguous, received_at, result)
    session.execute(
        delete(SyncPending).where(
            col(SyncPending.site_id) == site_id, col(SyncPending.seq) <= link.last_applied_seq
        )
    )
    for seq, envelope in ready.items():
        if seq not in held:
            session.add(SyncPending(site_id=site_id, seq=seq, envelope=envelope.to_wire().decode(),
                                    received_at=received_at))
            held[seq] = SyncPending(site_id=site_id, seq=seq, envelope="")
            result.held += 1
    if held:
        result.resend_from = link.last_applied_seq + 1
        link.gap_since = link.gap_since or received_at
        if not link.gap_alarm and received_at - as_utc(link.gap_since) > GAP_ALARM_AFTER:
            link.gap_alarm = True
            audit_service.record(
                session, action="sync.gap_unhealed", result="failure",
                actor=f"site:{site_id}", object_type="site", object_id=site_id,
                detail={"missing_from": result.resend_from, "held": len(held)},
            )
    else:
        link.gap_since = None
        link.gap_alarm = False
    result.acked_seq = link.last_applied_seq
    result.highest_seen = link.highest_seen_seq
    session.add(link)
    session.flush()
    return result


def record_status(
    session: Session, *, settings: CloudSettings, status: Status, received_at: datetime,
    live: bool,
) -> ApplyResult:
    """Store the appliance's state; answer with an ack so it learns our position and clock.

    A retained status replayed on subscribe (`live` False) is old news: it updates the
    online flag but not the clock-skew estimate.
    """
    link = lock_link(session, status.site_id)
    link.online = status.state == "online"
    link.status_at = received_at
    if status.state == "online":
        link.edge_backlog = status.backlog
        link.edge_last_acked_seq = status.last_acked_seq
        link.edge_oldest_unacked_at = status.oldest_unacked_at
        link.agent_version = status.agent_version[:40]
        if live:
            # A live status is a fresh sample (delivery takes milliseconds); the edge's own
            # estimate in it may date from before a reboot or a clock change.
            skew = (as_utc(status.edge_time) - received_at).total_seconds()
            link.clock_skew_seconds = round(skew, 3)
            alarm = abs(skew) > settings.clock_skew_alarm_seconds
            if alarm and not link.clock_skew_alarm:
                audit_service.record(
                    session, action="sync.clock_skew", result="failure",
                    actor=f"site:{link.site_id}", object_type="site", object_id=link.site_id,
                    detail={"skew_seconds": round(skew, 1)},
                )
            link.clock_skew_alarm = alarm
    session.add(link)
    session.flush()
    resend = link.last_applied_seq + 1 if link.gap_since else None
    return ApplyResult(site_id=link.site_id, acked_seq=link.last_applied_seq, resend_from=resend)


def create_site_link(
    session: Session, *, settings: CloudSettings, site: Site, key_b64: str, mqtt_username: str,
    mqtt_password_hash: str,
) -> SiteLink:
    existing = session.get(SiteLink, site.id)
    link = existing or SiteLink(site_id=site.id, key_enc="", mqtt_username=mqtt_username,
                                mqtt_password_hash="")
    if existing is not None:
        # The customer cache is indexed with the site key: a new key needs a new snapshot.
        newest = session.exec(select(func.max(DownFeed.offset))).one()
        link.feed_floor = newest or 0
    link.key_enc = seal_site_key(settings, key_b64)
    link.mqtt_username = mqtt_username
    link.mqtt_password_hash = mqtt_password_hash
    session.add(link)
    session.flush()
    return link
