"""A visitor withdraws face consent through the office's sales manager (ADR 0053): the
manager finds the visitor's face consents by the phone number they registered with, and
withdraws them all at once — the face data is deleted on the appliance, the cloud hears
`face.consent` (withdrawn) and `face.erased`, as with the field engineer's withdrawal.

A look-up by number tells whether a person left face data here, so it is counted against
the manager like a customer search and written to the outbox as `customer.searched`
(audited in the cloud) and to the appliance's face access log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces import consent
from edge_agent.faces.models import FaceConsentRecord
from edge_agent.faces.records import audit
from edge_agent.kiosk.lookup_guard import LookupLimiter
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.deps import StaffUser
from edge_agent.store import Store, outbox
from edge_agent.store.models.reception import Visit
from shared.errors import NotFound
from shared.events import CUSTOMER_SEARCHED, CustomerSearched
from shared.phone import mask_phone, normalise_phone

ConsentState = Literal["linked", "waiting", "withdrawn"]


class NoFaceConsent(NotFound):
    code = "face_consent_not_found"
    title = "该号码在本案场没有有效的人脸授权，无需撤回"


@dataclass(frozen=True)
class ConsentEntry:
    """One registration's face consent: `linked` holds face data, `waiting` has none yet
    (the camera has not matched the visitor), `withdrawn` is over."""

    visit_id: uuid.UUID
    project_id: int
    visit_date: str
    notice_version: str
    recorded_at: datetime
    state: ConsentState


@dataclass(frozen=True)
class Found:
    phone_masked: str
    consents: list[ConsentEntry]


def _state(records: list[FaceConsentRecord]) -> ConsentState:
    withdrawn = {r.person_id for r in records if not r.granted and r.person_id is not None}
    given = [r for r in records if r.granted and r.person_id not in withdrawn]
    if any(r.person_id is not None for r in given):
        return "linked"
    return "waiting" if given else "withdrawn"


async def consents_of(session: AsyncSession, phone_bidx: str) -> list[ConsentEntry]:
    """The face consents given at this number's registrations, newest first."""
    visits = {v.id: v for v in (await session.exec(
        select(Visit).where(Visit.phone_bidx == phone_bidx))).all()}
    if not visits:
        return []
    records = list((await session.exec(select(FaceConsentRecord).where(
        col(FaceConsentRecord.visit_id).in_(list(visits))))).all())
    by_visit: dict[uuid.UUID, list[FaceConsentRecord]] = {}
    for r in records:
        by_visit.setdefault(r.visit_id, []).append(r)
    entries = [ConsentEntry(visit_id=vid, project_id=visits[vid].project_id,
                            visit_date=visits[vid].visit_date,
                            notice_version=rs[0].notice_version,
                            recorded_at=min(r.recorded_at for r in rs), state=_state(rs))
               for vid, rs in by_visit.items()]
    return sorted(entries, key=lambda e: e.recorded_at, reverse=True)


async def find(store: Store, settings: EdgeSettings, staff: StaffUser, limiter: LookupLimiter,
               *, phone_raw: str, now: datetime) -> Found:
    """The number's face consents; the look-up counted and audited before answering."""
    limiter.check(f"user:{staff.id}")
    phone = normalise_phone(phone_raw)
    masked = mask_phone(phone)

    async def tx(session: AsyncSession) -> list[ConsentEntry]:
        found = await consents_of(session, settings.blind_index.phone(phone))
        event = CustomerSearched(consultant_id=staff.id, by="phone", phone=phone,
                                 matches=len(found))
        await outbox.append(session, settings.cipher, event_type=CUSTOMER_SEARCHED,
                            event_id=uuid.uuid4(), occurred_at=now,
                            payload=event.model_dump(mode="json"), now=now)
        await audit(session, now, f"user:{staff.id}", "consent_lookup",
                    detail=f"{masked}: {len(found)}")
        return found

    found = await store.write(tx)
    store.outbox_committed()
    return Found(phone_masked=masked, consents=found)


async def withdraw_all(session: AsyncSession, settings: EdgeSettings, staff: StaffUser, *,
                       phone_raw: str, now: datetime) -> tuple[int, list[uuid.UUID]]:
    """Withdraw every face consent still in force at this number's registrations; answers
    how many and the identities erased. NoFaceConsent when none is in force."""
    phone = normalise_phone(phone_raw)
    live = [e for e in await consents_of(session, settings.blind_index.phone(phone))
            if e.state != "withdrawn"]
    if not live:
        raise NoFaceConsent()
    actor = f"user:{staff.id}"
    erased: list[uuid.UUID] = []
    for entry in live:
        erased += await consent.withdraw(session, settings.cipher, visit_id=entry.visit_id,
                                         actor=actor, now=now)
    await audit(session, now, actor, "consent_withdrawn",
                detail=f"{mask_phone(phone)}: {len(live)}")
    return len(live), erased
