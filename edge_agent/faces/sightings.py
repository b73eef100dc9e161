"""A track becomes a sighting (ADR 0047) as soon as it has its embedding: matched against
the gallery, a known face extends its sighting at that camera when it comes back within
the merge window (count + 1) or opens a new one; an unknown face becomes a temporary
visitor identity; a staff member's face is dropped here — staff are never sent. When the
track finishes, its sighting's last seen moves to the track's end. Each change re-sends
`face.sighted` under the same `sighting_id`, with ids and times only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces import consent
from edge_agent.faces.engine import Embedding
from edge_agent.faces.events import emit
from edge_agent.faces.matching import Gallery
from edge_agent.faces.models import FacePerson, FaceSighting, FaceTemplate
from edge_agent.faces.records import PIPELINE, audit, seal, seal_crop
from shared.crypto import FieldCipher
from shared.faces import FACE_SIGHTED, FaceSighted

MERGE_WINDOW = timedelta(minutes=5)
MAX_TEMPLATES = 5  # per identity: a match near the threshold adds its template
LEARN_BELOW = 0.02  # above the threshold by less than this


class GalleryEntryGone(LookupError):
    def __init__(self, person_id: uuid.UUID) -> None:
        super().__init__(f"gallery entry {person_id} is gone")
        self.person_id = person_id


@dataclass(frozen=True)
class Seen:
    """One finished track, as the sightings need it (the embedding is a copy)."""

    camera_id: uuid.UUID
    first_seen: datetime
    last_seen: datetime
    embedding: Embedding
    crop: bytes | None = None


@dataclass(frozen=True)
class Recorded:
    person_id: uuid.UUID
    kind: str
    sighting_id: uuid.UUID | None  # None for staff
    # A template stored by this transaction, for the gallery once it commits.
    new_template: Embedding | None


async def _sighting(session: AsyncSession, person_id: uuid.UUID, seen: Seen
                    ) -> FaceSighting | None:
    return (await session.exec(
        select(FaceSighting)
        .where(col(FaceSighting.person_id) == person_id,
               col(FaceSighting.camera_id) == seen.camera_id,
               col(FaceSighting.last_seen_at) >= seen.first_seen - MERGE_WINDOW)
        .order_by(col(FaceSighting.last_seen_at).desc()).limit(1))).first()


async def record(session: AsyncSession, cipher: FieldCipher, gallery: Gallery, seen: Seen, *,
                 engine: str, crop_days: int, kiosk_camera: uuid.UUID | None,
                 now: datetime) -> Recorded:
    match = gallery.best(seen.embedding)
    new_template: Embedding | None = None
    if match is None:
        person = FacePerson(kind="visitor", created_at=now, last_seen_at=seen.last_seen)
        session.add(person)
        new_template = seen.embedding
        await audit(session, now, PIPELINE, "visitor_enrolled", person.id)
    else:
        found = await session.get(FacePerson, match.person_id)
        if found is None:  # erased since the gallery was loaded
            raise GalleryEntryGone(match.person_id)
        person = found
        person.last_seen_at = max(person.last_seen_at, seen.last_seen)
        session.add(person)
        await audit(session, now, PIPELINE, "matched", person.id, f"score {match.score:.3f}")
        if (match.score < gallery.threshold + LEARN_BELOW
                and gallery.templates_of(person.id) < MAX_TEMPLATES):
            new_template = seen.embedding
    if new_template is not None:
        session.add(FaceTemplate(person_id=person.id, engine=engine,
                                 embedding_enc=seal(cipher, new_template), created_at=now))
    await session.flush()
    if person.kind == "staff":
        return Recorded(person.id, "staff", None, new_template)
    if person.kind == "visitor" and (kiosk_camera is None or seen.camera_id == kiosk_camera):
        waiting = await consent.pending_for(session, now)
        # The next visitor in front of the kiosk camera after the consent is the one who
        # gave it (staff and customers are never taken).
        if waiting is not None and seen.last_seen >= waiting.recorded_at:
            await consent.link(session, cipher, waiting, person, actor=PIPELINE, now=now)
    sighting = await _sighting(session, person.id, seen)
    if sighting is None:
        sighting = FaceSighting(person_id=person.id, camera_id=seen.camera_id,
                                first_seen_at=seen.first_seen, last_seen_at=seen.last_seen,
                                count=1, score=match.score if match else None)
    else:
        sighting.first_seen_at = min(sighting.first_seen_at, seen.first_seen)
        sighting.last_seen_at = max(sighting.last_seen_at, seen.last_seen)
        sighting.count += 1
        if match is not None:
            sighting.score = max(sighting.score or 0.0, match.score)
    if seen.crop is not None and crop_days > 0:
        sighting.crop_enc = seal_crop(cipher, seen.crop)
        sighting.crop_expires_at = now + timedelta(days=crop_days)
    session.add(sighting)
    await session.flush()
    await emit(session, cipher, FACE_SIGHTED, FaceSighted(
        sighting_id=sighting.id, camera_id=seen.camera_id, person_ref=person.id,
        subject="customer" if person.kind == "customer" else "visitor",
        first_seen_at=sighting.first_seen_at, last_seen_at=sighting.last_seen_at,
        count=sighting.count, score=sighting.score), now)
    return Recorded(person.id, person.kind, sighting.id, new_template)


async def extend(session: AsyncSession, cipher: FieldCipher, sighting_id: uuid.UUID,
                 last_seen: datetime, now: datetime) -> bool:
    """The track recorded at its embedding has finished: the sighting lasts until its
    end (re-sent); False when nothing changed or the sighting was erased meanwhile."""
    sighting = await session.get(FaceSighting, sighting_id)
    if sighting is None or last_seen <= sighting.last_seen_at:
        return False
    person = await session.get(FacePerson, sighting.person_id)
    if person is None or person.kind == "staff":
        return False
    sighting.last_seen_at = last_seen
    person.last_seen_at = max(person.last_seen_at, last_seen)
    session.add_all([sighting, person])
    await emit(session, cipher, FACE_SIGHTED, FaceSighted(
        sighting_id=sighting.id, camera_id=sighting.camera_id, person_ref=person.id,
        subject="customer" if person.kind == "customer" else "visitor",
        first_seen_at=sighting.first_seen_at, last_seen_at=sighting.last_seen_at,
        count=sighting.count, score=sighting.score), now)
    return True
