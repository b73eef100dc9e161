"""Face data in the data-subject workflow (cloud/privacy): a deletion request sends each
site holding the customer's gallery entries a `face.erase` naming them (the entries the
cloud learnt from face consents — a sighting names a customer only through one), and
tracks each site's `face.erased` answer.

Time limit: the request's own answer deadline (15 working days, cloud.privacy.deadline).
An appliance erases as soon as it reads the item (minutes when online); an entry still
unanswered at the deadline shows `overdue` on the request. The cloud's own sighting
records of the entries are deleted at once. An item the appliance never read — it
resynced from a snapshot past it — is sent again a day later for the entries still
unanswered (job `faces.erase_resend`; erasing twice is harmless).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from cloud.faces.models import FaceErasure, FacePerson, FaceSighting
from cloud.settings import CloudSettings
from cloud.sync import feed
from shared.faces import FACE_ERASE, FaceErase
from shared.timeutil import as_utc, utcnow

MAX_REFS = 100  # per face.erase item (shared.faces.FaceErase)
RESEND_AFTER = timedelta(days=1)


def request_erasure(session: Session, *, subject_request_id: int, due_at: datetime,
                    customer_ids: Sequence[int]) -> int:
    """Ask the sites to erase the customers' entries; the number of entries asked."""
    if not customer_ids:
        return 0
    people = session.exec(select(FacePerson).where(
        col(FacePerson.customer_id).in_(customer_ids), col(FacePerson.erased_at).is_(None))
        .order_by(col(FacePerson.site_id), col(FacePerson.customer_id),
                  col(FacePerson.id))).all()
    now = utcnow()
    groups: dict[tuple[str, int], list[FacePerson]] = {}
    for person in people:
        assert person.customer_id is not None
        groups.setdefault((person.site_id, person.customer_id), []).append(person)
    for (site_id, customer_id), found in groups.items():
        for start in range(0, len(found), MAX_REFS):
            chunk = found[start:start + MAX_REFS]
            request_id = uuid.uuid4()
            item = FaceErase(request_id=request_id, customer_id=customer_id,
                             person_refs=[uuid.UUID(p.person_ref) for p in chunk],
                             requested_at=now)
            feed.append(session, site_id, FACE_ERASE, str(request_id),
                        item.model_dump(mode="json"))
            for person in chunk:
                session.add(FaceErasure(
                    request_id=str(request_id), subject_request_id=subject_request_id,
                    site_id=site_id, customer_id=customer_id, person_ref=person.person_ref,
                    sent_at=now, due_at=due_at))
        session.execute(delete(FaceSighting).where(
            col(FaceSighting.site_id) == site_id,
            col(FaceSighting.person_ref).in_([p.person_ref for p in found])))
    session.flush()
    return len(people)


def state(row: FaceErasure, now: datetime) -> str:
    if row.erased_at is not None:
        return "erased"
    return "overdue" if as_utc(row.due_at) < now else "pending"


def of_request(session: Session, subject_request_id: int) -> list[FaceErasure]:
    return list(session.exec(select(FaceErasure).where(
        FaceErasure.subject_request_id == subject_request_id)
        .order_by(col(FaceErasure.site_id), col(FaceErasure.id))).all())


def resend_pending(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """Send again the `face.erase` items whose entries are still unanswered a day on."""
    now = utcnow()
    rows = session.exec(select(FaceErasure).where(
        col(FaceErasure.erased_at).is_(None), col(FaceErasure.sent_at) < now - RESEND_AFTER)
        .order_by(col(FaceErasure.id)).with_for_update(skip_locked=True)).all()
    groups: dict[tuple[str, str, int], list[FaceErasure]] = {}
    for row in rows:
        groups.setdefault((row.site_id, row.request_id, row.customer_id), []).append(row)
    for (site_id, request_id, customer_id), pending in groups.items():
        item = FaceErase(request_id=uuid.UUID(request_id), customer_id=customer_id,
                         person_refs=[uuid.UUID(r.person_ref) for r in pending],
                         requested_at=now)
        feed.append(session, site_id, FACE_ERASE, request_id, item.model_dump(mode="json"))
        for row in pending:
            row.sent_at = now
            session.add(row)
    session.flush()
    return {"resent": len(groups), "entries": len(rows)}
