"""The appliance's face events: `face.sighted`, `face.consent`, `face.erased`
(shared/faces.py). Ids, times and counts only.

A sighting is an upsert by `sighting_id`: the appliance re-sends it while the person
stays in view, so the last event wins, and its first/last times and count only grow — a
replayed or reordered older event changes nothing backwards. A consent links the
gallery entry to the customer of the registration (`visit_id`); an erasure deletes the
cloud's sightings of the entry, unlinks the customer and answers the erasure request.
An erased entry stays as a tombstone: a late sighting of it is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import delete
from sqlmodel import Session, col, select

from cloud.faces.models import FaceConsentRecord, FaceErasure, FacePerson, FaceSighting
from cloud.sales.models import Visit
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.faces import (
    FACE_CONSENT,
    FACE_ERASED,
    FACE_SIGHTED,
    FaceConsent,
    FaceErased,
    FaceSighted,
)
from shared.timeutil import as_utc, utcnow


def persons(session: Session, site_id: str, refs: set[str]) -> dict[str, FacePerson]:
    rows = session.exec(select(FacePerson).where(
        col(FacePerson.site_id) == site_id, col(FacePerson.person_ref).in_(refs)))
    return {row.person_ref: row for row in rows}


def _person(known: dict[str, FacePerson], site_id: str, ref: str) -> FacePerson:
    row = known.get(ref)
    if row is None:
        row = known[ref] = FacePerson(site_id=site_id, person_ref=ref)
    return row


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or as_utc(b) < as_utc(a) else a


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or as_utc(b) > as_utc(a) else a


def apply_sightings(ctx: ApplyContext,
                    items: Sequence[tuple[Envelope, FaceSighted]]) -> list[Outcome]:
    session = ctx.session
    known = persons(session, ctx.site_id, {str(e.person_ref) for _, e in items})
    rows = {row.sighting_id: row for row in session.exec(select(FaceSighting).where(
        col(FaceSighting.sighting_id).in_({str(e.sighting_id) for _, e in items})))}
    outcomes = []
    for _envelope, event in items:
        ref, sighting_id = str(event.person_ref), str(event.sighting_id)
        person = known.get(ref)
        if person is not None and person.erased_at is not None:
            outcomes.append(Outcome("rejected", reason="person_erased", ref=sighting_id))
            continue
        row = rows.get(sighting_id)
        if row is not None and (row.site_id, row.person_ref) != (ctx.site_id, ref):
            # A sighting id names one person at one site for ever.
            outcomes.append(Outcome("rejected", reason="sighting_conflict", ref=sighting_id))
            continue
        if row is None:
            row = rows[sighting_id] = FaceSighting(
                sighting_id=sighting_id, site_id=ctx.site_id, camera_id=str(event.camera_id),
                person_ref=ref, subject=event.subject, first_seen_at=event.first_seen_at,
                last_seen_at=event.last_seen_at, count=event.count, score=event.score,
                received_at=ctx.received_at)
            outcome: Literal["applied", "merged"] = "applied"
        else:
            newer = (as_utc(event.last_seen_at), event.count) >= (
                as_utc(row.last_seen_at), row.count)
            grows = (as_utc(event.first_seen_at) < as_utc(row.first_seen_at)
                     or as_utc(event.last_seen_at) > as_utc(row.last_seen_at)
                     or event.count > row.count)
            if newer:
                row.camera_id, row.subject, row.score = (
                    str(event.camera_id), event.subject, event.score)
            row.first_seen_at = _earliest(row.first_seen_at, event.first_seen_at)
            row.last_seen_at = _latest(row.last_seen_at, event.last_seen_at)
            row.count = max(row.count, event.count)
            row.received_at = ctx.received_at
            outcome = "applied" if grows or newer else "merged"
        session.add(row)
        person = _person(known, ctx.site_id, ref)
        person.first_seen_at = _earliest(person.first_seen_at, event.first_seen_at)
        person.last_seen_at = _latest(person.last_seen_at, event.last_seen_at)
        person.updated_at = utcnow()
        session.add(person)
        outcomes.append(Outcome(outcome, ref=sighting_id))
    session.flush()
    return outcomes


def known_refs(items: Sequence[tuple[Envelope, FaceConsent | FaceErased]]) -> set[str]:
    return {str(e.person_ref) for _, e in items}


def apply_consents(ctx: ApplyContext,
                   items: Sequence[tuple[Envelope, FaceConsent]]) -> list[Outcome]:
    session = ctx.session
    known = persons(session, ctx.site_id, known_refs(items))
    visits = {v.id: v for v in session.exec(select(Visit).where(
        col(Visit.site_id) == ctx.site_id,
        col(Visit.id).in_({str(e.visit_id) for _, e in items})))}
    seen = {(r.person_ref, as_utc(r.recorded_at), r.granted)
            for r in session.exec(select(FaceConsentRecord).where(
                col(FaceConsentRecord.site_id) == ctx.site_id,
                col(FaceConsentRecord.person_ref).in_(known_refs(items))))}
    outcomes = []
    for _envelope, event in items:
        ref = str(event.person_ref)
        visit = visits.get(str(event.visit_id))
        if visit is None:
            # The registration travels first in the outbox; none means a foreign id.
            outcomes.append(Outcome("rejected", reason="unknown_visit", ref=ref))
            continue
        if (ref, as_utc(event.recorded_at), event.granted) in seen:
            outcomes.append(Outcome("merged", ref=ref))
            continue
        seen.add((ref, as_utc(event.recorded_at), event.granted))
        session.add(FaceConsentRecord(
            site_id=ctx.site_id, person_ref=ref, visit_id=visit.id,
            customer_id=visit.customer_id, granted=event.granted,
            notice_version=event.notice_version, method=event.method,
            recorded_at=event.recorded_at, received_at=ctx.received_at))
        person = _person(known, ctx.site_id, ref)
        if person.erased_at is None:
            person.customer_id = visit.customer_id
            person.consent = event.granted
            person.updated_at = utcnow()
            session.add(person)
        outcomes.append(Outcome("applied", ref=ref, detail={"granted": event.granted}))
    session.flush()
    return outcomes


def apply_erasures(ctx: ApplyContext,
                   items: Sequence[tuple[Envelope, FaceErased]]) -> list[Outcome]:
    session = ctx.session
    known = persons(session, ctx.site_id, known_refs(items))
    asked = {(row.request_id, row.person_ref): row for row in session.exec(
        select(FaceErasure).where(
            col(FaceErasure.site_id) == ctx.site_id, col(FaceErasure.erased_at).is_(None),
            col(FaceErasure.request_id).in_({str(e.request_id) for _, e in items
                                             if e.request_id is not None})))}
    erased: set[str] = set()
    outcomes = []
    for _envelope, event in items:
        ref = str(event.person_ref)
        answer = asked.pop((str(event.request_id), ref), None)
        if answer is not None:
            answer.erased_at = event.erased_at
            session.add(answer)
        person = _person(known, ctx.site_id, ref)
        if person.erased_at is not None:
            outcomes.append(Outcome("merged", ref=ref))
            continue
        person.erased_at, person.erased_reason = event.erased_at, event.reason
        person.customer_id, person.consent = None, False
        person.updated_at = utcnow()
        session.add(person)
        erased.add(ref)
        outcomes.append(Outcome("applied", ref=ref, detail={"reason": event.reason}))
    if erased:
        session.execute(delete(FaceSighting).where(
            col(FaceSighting.site_id) == ctx.site_id, col(FaceSighting.person_ref).in_(erased)))
    session.flush()
    return outcomes


# After the visits (order 10) a consent links to, and after the cameras.
register(EventType(FACE_SIGHTED, FaceSighted, apply_sightings, order=70,
                   audit_key="face_sightings", scope="site"))
register(EventType(FACE_CONSENT, FaceConsent, apply_consents, order=71,
                   audit_key="face_consents", scope="site"))
register(EventType(FACE_ERASED, FaceErased, apply_erasures, order=72,
                   audit_key="face_erasures", scope="site"))
