"""Applying a site's up-stream events exactly once, in seq order, and answering acks.

The site's link row is locked for the whole batch (SELECT … FOR UPDATE), so two sync
consumers on a shared subscription can hold events of one site at once and still
apply each seq once: contiguity comes from `seq`, never from arrival order. Seqs count
per epoch (the appliance's store, see cloud.sync.identity); a seq seen again is compared
by the hash of its content — the same event is a duplicate, other content a conflict.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import delete, func
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.bulk import insert_rows
from cloud.catalog.models import Project, Site
from cloud.settings import CloudSettings
from cloud.sync import identity
from cloud.sync.handlers import ApplyContext, event_types
from cloud.sync.keys import seal_site_key, site_key
from cloud.sync.models import DownFeed, SiteLink, SyncEvent, SyncPending, SyncRejection
from shared.envelope import Ack, Envelope, ProtocolError, Rejection, canonical_json
from shared.timeutil import as_utc, utcnow

SEQ_CONFLICT = "seq_conflict"


class UnknownSite(ProtocolError):
    def __init__(self, site_id: str) -> None:
        super().__init__("unknown_site", site_id)


@dataclass
class ApplyResult:
    site_id: str
    epoch: str | None
    acked_seq: int
    resend_from: int | None = None
    applied: int = 0
    duplicates: int = 0
    held: int = 0
    highest_seen: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    echo: datetime | None = None  # the status this answers (edge_time), and its agent
    instance: UUID | None = None

    def ack(self, key: bytes) -> Ack:
        return Ack(
            site_id=self.site_id, epoch=UUID(self.epoch) if self.epoch else None,
            acked_seq=self.acked_seq, resend_from=self.resend_from, cloud_time=utcnow(),
            echo=self.echo, instance=self.instance, rejected=self.rejected,
        ).signed(key)


def lock_link(session: Session, site_id: str) -> SiteLink:
    link = session.exec(
        select(SiteLink).where(SiteLink.site_id == site_id).with_for_update()
    ).first()
    if link is None:
        raise UnknownSite(site_id)
    return link


def content_hash(envelope: Envelope, known: Mapping[str, str] | None = None) -> str:
    """`known`: hashes already made as the envelopes were read, by signature (one
    signature, one signed body, so one content)."""
    if known and (found := known.get(envelope.sig)):
        return found
    return hashlib.sha256(canonical_json(envelope.content())).hexdigest()


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

    hashes: Mapping[str, str] | None = None  # content hashes by signature, if known
    events: list[dict[str, Any]] = field(default_factory=list)  # sync_event rows
    rejected: list[Rejection] = field(default_factory=list)
    applied: dict[str, list[str]] = field(default_factory=dict)  # audit key → refs
    merged: int = 0


def _event_row(run: _Run, envelope: Envelope, outcome: str, detail: dict[str, Any],
               event_id: str | None = None) -> dict[str, Any]:
    return {
        "site_id": envelope.site_id, "epoch": str(envelope.epoch), "seq": envelope.seq,
        "content_sha256": content_hash(envelope, run.hashes),
        "event_id": event_id or str(envelope.event_id), "type": envelope.type,
        "outcome": outcome, "detail": detail, "occurred_at": as_utc(envelope.occurred_at),
    }


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """A run's sync_event rows in one INSERT, not an ORM object each."""
    now = utcnow()
    insert_rows(session, SyncEvent, [{**row, "applied_at": now} for row in rows])


def _reject(run: _Run, envelope: Envelope, reason: str, event_id: str | None = None) -> None:
    """A permanently bad event still consumes its seq, or the site would stall behind it
    for ever; it is recorded and reported back in the ack."""
    run.rejected.append(Rejection(seq=envelope.seq, event_id=str(envelope.event_id),
                                  reason=reason, consumed=True))
    run.events.append(_event_row(run, envelope, "rejected", {"reason": reason}, event_id))


def _apply_run(
    session: Session, settings: CloudSettings, link: SiteLink, key: bytes,
    envelopes: list[Envelope], received_at: datetime, hashes: Mapping[str, str] | None,
) -> _Run:
    """Check what every event shares (identity, type, payload, project), then hand each
    registered type its events of the run, in the types' order.

    Everything an event could fail on is checked first, so the flush meets no constraint;
    if it still does, the caller replays the run one event at a time.
    """
    run = _Run(hashes)
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
                    str(uuid.uuid5(envelope.event_id, f"{envelope.epoch}:{envelope.seq}")))
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
        if event_type.scope == "project" and getattr(event, "project_id", None) not in projects:
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
            run.events.append(_event_row(run, envelope, outcome.outcome, outcome.detail))
            if outcome.outcome == "merged":
                run.merged += 1
            elif outcome.ref is not None:
                run.applied.setdefault(event_type.audit_key, []).append(outcome.ref)
    _insert_events(session, run.events)
    return run


def _apply_contiguous(
    session: Session, settings: CloudSettings, link: SiteLink, key: bytes,
    envelopes: list[Envelope], received_at: datetime, result: ApplyResult,
    hashes: Mapping[str, str] | None,
) -> None:
    try:
        with session.begin_nested():
            runs = [_apply_run(session, settings, link, key, envelopes, received_at, hashes)]
    except (IntegrityError, DataError, ValueError):
        # Something the checks could not foresee (a constraint, a value the database
        # cannot hold — psycopg2 refuses some with a ValueError): one event at a time, so
        # only the event at fault is rejected.
        runs = []
        for envelope in envelopes:
            try:
                with session.begin_nested():
                    runs.append(_apply_run(session, settings, link, key, [envelope],
                                           received_at, hashes))
            except (IntegrityError, DataError, ValueError) as error:
                single = _Run(hashes)
                _reject(single, envelope,
                        "conflict" if isinstance(error, IntegrityError) else "invalid_value")
                _insert_events(session, single.events)
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
        detail={"epoch": link.epoch, "seq_from": envelopes[0].seq,
                "seq_to": envelopes[-1].seq, **applied, "merged": merged,
                "rejected": [{"seq": r.seq, "reason": r.reason} for r in rejected]},
    )


def _admit(session: Session, link: SiteLink, envelopes: Iterable[Envelope],
           received_at: datetime, result: ApplyResult) -> list[Envelope]:
    """The envelopes this site's store and agent may send; others are refused unconsumed
    (the appliance keeps them: an operator's decision may make them good)."""
    admitted = []
    for envelope in envelopes:
        if link.epoch is None:
            identity.adopt_epoch(session, link, envelope.epoch, link.last_applied_seq)
            result.epoch = link.epoch
        refusal = identity.epoch_refusal(session, link, envelope.epoch, received_at) or \
            identity.instance_refusal(session, link, envelope.instance, received_at,
                                      live=True, sent_at=envelope.sent_at)
        if refusal is not None:
            result.rejected.append(Rejection(seq=envelope.seq, event_id=str(envelope.event_id),
                                             reason=refusal, consumed=False))
            continue
        admitted.append(envelope)
    return admitted


def _conflicts(session: Session, link: SiteLink, envelopes: dict[int, Envelope],
               held: dict[int, SyncPending], result: ApplyResult,
               hashes: Mapping[str, str] | None) -> None:
    """A seq we hold (applied, or parked above a hole) sent again with other content:
    the first one stays; the other is named in the ack and raises the alarm once."""
    applied_seqs = [seq for seq in envelopes if seq <= link.last_applied_seq]
    stored = dict(session.exec(select(SyncEvent.seq, SyncEvent.content_sha256).where(
        SyncEvent.site_id == link.site_id, SyncEvent.epoch == link.epoch,
        col(SyncEvent.seq).in_(applied_seqs))).all()) if applied_seqs else {}
    for seq, envelope in envelopes.items():
        first = stored.get(seq)
        if first is None and seq in held:
            first = content_hash(Envelope.from_wire(held[seq].envelope.encode()))
        if first is None or first == content_hash(envelope, hashes):
            continue
        result.rejected.append(Rejection(seq=seq, event_id=str(envelope.event_id),
                                         reason=SEQ_CONFLICT, consumed=True))
        _raise_conflict_alarm(session, link, seq, first, content_hash(envelope, hashes))


def _burst_conflicts(session: Session, link: SiteLink, seen: dict[int, Envelope],
                     burst: list[Envelope], result: ApplyResult,
                     hashes: Mapping[str, str] | None) -> None:
    """Two copies of one seq in the same batch: the first is the one kept, as across
    batches; the same content again is a duplicate, other content a conflict."""
    for envelope in burst:
        first = seen[envelope.seq]
        if content_hash(first, hashes) == content_hash(envelope, hashes):
            result.duplicates += 1
            continue
        result.rejected.append(Rejection(seq=envelope.seq, event_id=str(envelope.event_id),
                                         reason=SEQ_CONFLICT, consumed=True))
        _raise_conflict_alarm(session, link, envelope.seq, content_hash(first, hashes),
                              content_hash(envelope, hashes))


def _raise_conflict_alarm(session: Session, link: SiteLink, seq: int, kept: str,
                          refused: str) -> None:
    if link.conflict_alarm:
        return
    link.conflict_alarm = True
    audit_service.record(
        session, action="sync.seq_conflict", result="failure", actor=f"site:{link.site_id}",
        object_type="site", object_id=link.site_id,
        detail={"epoch": link.epoch, "seq": seq, "kept": kept, "refused": refused})


def apply_batch(
    session: Session, *, settings: CloudSettings, site_id: str,
    envelopes: Iterable[Envelope], received_at: datetime | None = None,
    content_hashes: Mapping[str, str] | None = None,
) -> ApplyResult:
    """Apply what is contiguous, hold what is above a hole, skip what is already in.

    The caller commits, then publishes `result.ack(...)`: an ack never runs ahead of
    the commit. `content_hashes`: see `content_hash`.
    """
    received_at = received_at or utcnow()
    link = lock_link(session, site_id)
    key = site_key(settings, link)
    result = ApplyResult(site_id=site_id, epoch=link.epoch, acked_seq=link.last_applied_seq)
    admitted = _admit(session, link, envelopes, received_at, result)
    held = {p.seq: p for p in session.exec(select(SyncPending).where(
        SyncPending.site_id == site_id, SyncPending.epoch == link.epoch)).all()}
    seen: dict[int, Envelope] = {}
    burst: list[Envelope] = []  # later copies of a seq within this batch
    for envelope in admitted:
        if envelope.seq in seen:
            burst.append(envelope)
        else:
            seen[envelope.seq] = envelope
    _conflicts(session, link, seen, held, result, content_hashes)
    # Seqs we already hold with other content: the first stays, these are not applied.
    conflicted = {r.seq for r in result.rejected if r.reason == SEQ_CONFLICT}
    _burst_conflicts(session, link, seen, burst, result, content_hashes)
    ready: dict[int, Envelope] = {}
    for seq, envelope in seen.items():
        if seq <= link.last_applied_seq or seq in conflicted:
            result.duplicates += 1
            continue
        ready[seq] = envelope
    link.highest_seen_seq = max([link.highest_seen_seq, *ready])
    contiguous: list[Envelope] = []
    nxt = link.last_applied_seq + 1
    while True:
        if nxt in ready:
            contiguous.append(ready.pop(nxt))
            held.pop(nxt, None)  # a resend of one we parked: the parked copy is done too
        elif nxt in held:
            contiguous.append(Envelope.from_wire(held.pop(nxt).envelope.encode()))
        else:
            break
        nxt += 1
    if contiguous:
        _apply_contiguous(session, settings, link, key, contiguous, received_at, result,
                          content_hashes)
    session.execute(delete(SyncPending).where(
        col(SyncPending.site_id) == site_id, col(SyncPending.epoch) == link.epoch,
        col(SyncPending.seq) <= link.last_applied_seq))
    for seq, envelope in ready.items():
        if seq not in held:
            session.add(SyncPending(site_id=site_id, epoch=str(envelope.epoch), seq=seq,
                                    envelope=envelope.to_wire().decode(),
                                    received_at=received_at))
            held[seq] = SyncPending(site_id=site_id, epoch="", seq=seq, envelope="")
            result.held += 1
    if held:
        result.resend_from = link.last_applied_seq + 1
        link.gap_since = link.gap_since or received_at
    else:
        link.gap_since, link.gap_alarm, link.stalled = None, False, False
    result.acked_seq = link.last_applied_seq
    result.highest_seen = link.highest_seen_seq
    session.add(link)
    session.flush()
    return result


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
