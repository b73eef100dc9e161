"""The gallery as the field engineer sees and changes it (audited): the identities with
their last sighting, and marking a temporary identity as staff — so the staff member is
recognised and never sent again; what was sent of them as a visitor is erased."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces.errors import FacePersonNotFound, FacePersonNotVisitor
from edge_agent.faces.events import emit
from edge_agent.faces.models import FacePerson, FaceSighting
from edge_agent.faces.records import ENGINEER, audit
from edge_agent.faces.schemas import FacePersonOut
from shared.crypto import FieldCipher
from shared.faces import FACE_ERASED, FaceErased


async def listing(session: AsyncSession, now: datetime) -> list[FacePersonOut]:
    counts = (select(FaceSighting.person_id, func.count().label("n"))
              .group_by(col(FaceSighting.person_id)).subquery())
    rows = (await session.exec(
        select(FacePerson, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.person_id == col(FacePerson.id))
        .order_by(col(FacePerson.last_seen_at).desc()).limit(500))).all()
    await audit(session, now, ENGINEER, "gallery_listed", detail=f"{len(rows)} identities")
    return [FacePersonOut(person_ref=p.id, kind=p.kind, visit_id=p.visit_id,
                          consultant_id=p.consultant_id, last_seen_at=p.last_seen_at,
                          sightings=int(n)) for p, n in rows]


async def mark_staff(session: AsyncSession, cipher: FieldCipher, person_id: uuid.UUID,
                     consultant_id: int, now: datetime) -> None:
    person = await session.get(FacePerson, person_id)
    if person is None:
        raise FacePersonNotFound()
    if person.kind != "visitor":
        raise FacePersonNotVisitor()
    person.kind, person.consultant_id = "staff", consultant_id
    session.add(person)
    await session.exec(delete(FaceSighting).where(col(FaceSighting.person_id) == person_id))
    await audit(session, now, ENGINEER, "marked_staff", person_id, f"consultant {consultant_id}")
    # The cloud drops what it had of this identity as a visitor.
    await emit(session, cipher, FACE_ERASED, FaceErased(
        person_ref=person_id, reason="request", erased_at=now), now)
