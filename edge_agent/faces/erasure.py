"""Deleting face data (ADR 0047): on the cloud's request (`face.erase`), when a customer
withdraws face consent, and by the retention job — 90 days after the person was last
seen or last registered. The identity, its templates and its sightings (with any crop)
go in one transaction with the `face.erased` event that tells the cloud."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces.events import emit
from edge_agent.faces.models import FaceAccess, FacePerson, FaceSighting
from edge_agent.faces.records import RETENTION, audit
from edge_agent.store.models.reception import Visit
from shared.crypto import FieldCipher
from shared.faces import FACE_ERASED, ErasureReason, FaceErased

RETENTION_DAYS = 90
ACCESS_LOG_DAYS = 180  # the audit rule of the security baseline


async def erase_people(session: AsyncSession, cipher: FieldCipher, person_ids: list[uuid.UUID],
                       *, reason: ErasureReason, actor: str, now: datetime,
                       request_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Delete the named identities that are here; answers those deleted. An identity
    this appliance does not hold (already gone) is still answered with `face.erased` on a
    request, so the cloud can close it."""
    held = set((await session.exec(
        select(FacePerson.id).where(col(FacePerson.id).in_(person_ids)))).all())
    if held:
        # Templates and sightings go with the identity (ON DELETE CASCADE).
        await session.exec(delete(FacePerson).where(col(FacePerson.id).in_(held)))
    answered = person_ids if reason == "request" else [p for p in person_ids if p in held]
    for person_id in answered:
        await audit(session, now, actor, "erased", person_id,
                    f"{reason}{'' if person_id in held else ', not held'}")
        await emit(session, cipher, FACE_ERASED, FaceErased(
            person_ref=person_id, reason=reason, erased_at=now, request_id=request_id), now)
    return [p for p in person_ids if p in held]


async def _visited_since(session: AsyncSession, cutoff: datetime) -> dict[uuid.UUID, datetime]:
    """Customers not seen by a camera since `cutoff` who registered here since (by phone,
    without their face being seen): their last visit, by the number of the visit that
    their consent linked."""
    linked, later = aliased(Visit), aliased(Visit)
    rows = (await session.exec(
        select(FacePerson.id, func.max(later.occurred_at))
        .join(linked, col(linked.id) == col(FacePerson.visit_id))
        .join(later, and_(col(later.project_id) == col(linked.project_id),
                          col(later.phone_bidx) == col(linked.phone_bidx)))
        .where(col(FacePerson.kind) == "customer", col(FacePerson.last_seen_at) < cutoff)
        .group_by(col(FacePerson.id)))).all()
    return {person_id: last for person_id, last in rows if last is not None and last >= cutoff}


async def apply_retention(session: AsyncSession, cipher: FieldCipher, now: datetime
                          ) -> list[uuid.UUID]:
    """The daily job: identities neither seen nor registered for RETENTION_DAYS, crops
    past their time, access-log rows past ACCESS_LOG_DAYS."""
    cutoff = now - timedelta(days=RETENTION_DAYS)
    for person_id, last_visit in (await _visited_since(session, cutoff)).items():
        await session.exec(update(FacePerson).where(col(FacePerson.id) == person_id)
                           .values(last_seen_at=last_visit))
    stale = list((await session.exec(select(FacePerson.id).where(
        col(FacePerson.last_seen_at) < cutoff))).all())
    erased = await erase_people(session, cipher, stale, reason="retention", actor=RETENTION,
                                now=now) if stale else []
    await session.exec(update(FaceSighting)
                       .where(col(FaceSighting.crop_expires_at) < now)
                       .values(crop_enc=None, crop_expires_at=None))
    await session.exec(delete(FaceAccess).where(
        col(FaceAccess.at) < now - timedelta(days=ACCESS_LOG_DAYS)))
    return erased


async def drop_crops(session: AsyncSession) -> None:
    """Crops switched off: none is kept a moment longer."""
    await session.exec(update(FaceSighting).where(col(FaceSighting.crop_enc).is_not(None))
                       .values(crop_enc=None, crop_expires_at=None))
