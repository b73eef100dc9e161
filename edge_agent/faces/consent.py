"""Separate face consent at the kiosk (ADR 0047). Registering works without it (by
phone); with it, the visitor face the kiosk camera saw last — or, when it has seen none
in the last two minutes, the next one it sees within five — becomes the customer of that
registration, and `face.consent` tells the cloud which. Without a granted consent no
face is ever linked to a customer. Withdrawal deletes the face data."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces.erasure import erase_people
from edge_agent.faces.events import emit
from edge_agent.faces.models import FaceConsentRecord, FacePerson, FaceSighting
from edge_agent.faces.records import audit
from shared.consent import ConsentMethod
from shared.crypto import FieldCipher
from shared.faces import FACE_CONSENT, FaceConsent

LOOK_BACK = timedelta(minutes=2)  # a face seen this recently at the kiosk is the visitor's
WAIT_FOR_FACE = timedelta(minutes=5)  # else the next visitor face within this time


async def link(session: AsyncSession, cipher: FieldCipher, consent: FaceConsentRecord,
               person: FacePerson, *, actor: str, now: datetime) -> None:
    person.kind, person.visit_id = "customer", consent.visit_id
    person.last_seen_at = max(person.last_seen_at, now)  # the visit counts for retention
    consent.person_id, consent.linked_at = person.id, now
    session.add_all([person, consent])
    await audit(session, now, actor, "consent_linked", person.id, f"visit {consent.visit_id}")
    await emit(session, cipher, FACE_CONSENT, FaceConsent(
        person_ref=person.id, visit_id=consent.visit_id, granted=True,
        notice_version=consent.notice_version, method=consent.method,
        recorded_at=consent.recorded_at), now)


async def recent_visitor(session: AsyncSession, camera_id: uuid.UUID | None,
                         now: datetime) -> FacePerson | None:
    """The temporary identity last seen (at the kiosk camera, when one is named)."""
    query = (select(FacePerson)
             .join(FaceSighting, col(FaceSighting.person_id) == col(FacePerson.id))
             .where(col(FacePerson.kind) == "visitor",
                    col(FaceSighting.last_seen_at) >= now - LOOK_BACK)
             .order_by(col(FaceSighting.last_seen_at).desc()).limit(1))
    if camera_id is not None:
        query = query.where(col(FaceSighting.camera_id) == camera_id)
    return (await session.exec(query)).first()


async def pending_for(session: AsyncSession, now: datetime) -> FaceConsentRecord | None:
    """The latest granted consent still waiting for a face."""
    return (await session.exec(
        select(FaceConsentRecord)
        .where(col(FaceConsentRecord.granted), col(FaceConsentRecord.person_id).is_(None),
               col(FaceConsentRecord.recorded_at) >= now - WAIT_FOR_FACE)
        .order_by(col(FaceConsentRecord.recorded_at).desc()).limit(1))).first()


async def grant(session: AsyncSession, cipher: FieldCipher, *, visit_id: uuid.UUID,
                notice_version: str, method: ConsentMethod, kiosk_camera: uuid.UUID | None,
                actor: str, now: datetime) -> FaceConsentRecord:
    """Record the consent and link the visitor's face if the camera has seen it; a visit
    already linked keeps its face (a second tap changes nothing)."""
    existing = (await session.exec(select(FaceConsentRecord).where(
        col(FaceConsentRecord.visit_id) == visit_id)
        .order_by(col(FaceConsentRecord.recorded_at).desc()).limit(1))).first()
    if existing is not None and existing.granted:
        return existing
    consent = FaceConsentRecord(visit_id=visit_id, granted=True, notice_version=notice_version,
                                method=method, recorded_at=now)
    session.add(consent)
    await session.flush()
    person = await recent_visitor(session, kiosk_camera, now)
    if person is not None:
        await link(session, cipher, consent, person, actor=actor, now=now)
    return consent


async def withdraw(session: AsyncSession, cipher: FieldCipher, *, visit_id: uuid.UUID,
                   actor: str, now: datetime) -> list[uuid.UUID]:
    """Withdraw the face consent given at `visit_id`: the linked face data is deleted
    (`face.consent` withdrawn, then `face.erased`); a consent still waiting for a face
    simply ends. Answers the identities erased."""
    records = list((await session.exec(select(FaceConsentRecord).where(
        col(FaceConsentRecord.visit_id) == visit_id))).all())
    withdrawn = {c.person_id for c in records if not c.granted and c.person_id is not None}
    given = [c for c in records if c.granted and c.person_id not in withdrawn]
    if not given:
        return []
    await session.exec(update(FaceConsentRecord)
                       .where(col(FaceConsentRecord.visit_id) == visit_id,
                              col(FaceConsentRecord.person_id).is_(None))
                       .values(granted=False))
    linked = [c for c in given if c.person_id is not None]
    for consent in linked:
        assert consent.person_id is not None
        session.add(FaceConsentRecord(visit_id=visit_id, person_id=consent.person_id,
                                      granted=False, notice_version=consent.notice_version,
                                      method=consent.method, recorded_at=now, linked_at=now))
        await emit(session, cipher, FACE_CONSENT, FaceConsent(
            person_ref=consent.person_id, visit_id=visit_id, granted=False,
            notice_version=consent.notice_version, method=consent.method,
            recorded_at=now), now)
    return await erase_people(session, cipher, [c.person_id for c in linked
                                                if c.person_id is not None],
                              reason="withdrawn", actor=actor, now=now)
