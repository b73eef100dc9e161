"""Follow-ups on the edge: written with their outbox event in one transaction, idempotent
by the phone's id; and the consultant's own visitors of the day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.crash import crash_point
from edge_agent.kiosk import lookup as kiosk_lookup
from edge_agent.kiosk import service as kiosk_service
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.deps import StaffUser
from edge_agent.store import Store, outbox
from edge_agent.store.models.customers import FollowUp, is_erased
from edge_agent.store.models.reception import Visit
from shared.errors import NotFound, ValidationFailed
from shared.events import (
    FOLLOWUP_RECORDED,
    FollowUpDraft,
    FollowUpIdReused,
    FollowUpRecorded,
)
from shared.follow_ups import MANAGER_ROLES, check_content, check_writer
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import shanghai_date, utcnow

NOTE_CONTEXT = "follow_up.note"


class VisitNotFound(NotFound):
    code = "visit_not_found"
    title = "到访记录不存在"


class UnknownCustomer(ValidationFailed):
    code = "customer_not_found"
    title = "该项目没有这个手机号的客户，请先在前台登记到访"


@dataclass(frozen=True)
class Recorded:
    follow_up: FollowUp
    created: bool


@dataclass(frozen=True)
class _Customer:
    project_id: int
    phone: str
    phone_bidx: str
    phone_masked: str
    owner_id: int | None


async def _customer(
    session: AsyncSession, settings: EdgeSettings, data: FollowUpDraft, now: datetime
) -> _Customer:
    """The customer the follow-up names (through the visit, or by phone in a project), with
    its owner as this appliance knows it now."""
    if data.visit_id is not None:
        visit = await session.get(Visit, data.visit_id)
        if visit is None or is_erased(visit.phone_bidx):
            # An erased customer's visit no longer names anyone to follow up.
            raise VisitNotFound(extra={"visit_id": str(data.visit_id)})
        phone = settings.cipher.decrypt(visit.phone_enc, context=kiosk_service.PHONE_CONTEXT)
        view = await kiosk_lookup.customer_view(
            session, settings, visit.project_id, visit.phone_bidx, now)
        return _Customer(visit.project_id, phone, visit.phone_bidx, visit.phone_masked,
                         view.owner_id)
    assert data.phone is not None
    phone = normalise_phone(data.phone)
    project_id = kiosk_lookup.resolve_project(settings, data.project_id)
    bidx = settings.blind_index.phone(phone)
    view = await kiosk_lookup.customer_view(session, settings, project_id, bidx, now)
    if not view.known:
        raise UnknownCustomer()
    return _Customer(project_id, phone, bidx, mask_phone(phone), view.owner_id)


async def _record_tx(
    session: AsyncSession, settings: EdgeSettings, staff: StaffUser, data: FollowUpDraft,
    now: datetime,
) -> Recorded:
    """The follow-up and its outbox event, or nothing."""
    existing = await session.get(FollowUp, data.id)
    if existing is not None:
        if existing.consultant_id != staff.id:
            raise FollowUpIdReused()
        return Recorded(existing, created=False)
    check_content(data.kind, data.reached, data.note)
    customer = await _customer(session, settings, data, now)
    check_writer(customer.owner_id, staff.id, manager=bool(MANAGER_ROLES & set(staff.roles)))
    occurred = min(data.occurred_at, now)  # a phone clock ahead of ours is not believed
    payload = FollowUpRecorded(
        follow_up_id=data.id, project_id=customer.project_id, phone=customer.phone,
        visit_id=data.visit_id, consultant_id=staff.id, kind=data.kind, reached=data.reached,
        note=data.note, next_at=data.next_at, occurred_at=occurred,
    )
    event_id = uuid.uuid4()
    seq = await outbox.append(
        session, settings.cipher, event_type=FOLLOWUP_RECORDED, event_id=event_id,
        occurred_at=occurred, payload=payload.model_dump(mode="json"), now=now,
    )
    follow_up = FollowUp(
        id=data.id, visit_id=data.visit_id, project_id=customer.project_id,
        phone_bidx=customer.phone_bidx, phone_masked=customer.phone_masked,
        consultant_id=staff.id, kind=data.kind, reached=data.reached,
        note_enc=settings.cipher.encrypt(data.note, context=NOTE_CONTEXT) if data.note else None,
        next_at=data.next_at, occurred_at=occurred, recorded_at=now, seq=seq,
        event_id=event_id,
    )
    session.add(follow_up)
    await session.flush()
    crash_point("in_outbox_tx")
    return Recorded(follow_up, created=True)


async def record_follow_up(
    store: Store, settings: EdgeSettings, staff: StaffUser, data: FollowUpDraft,
    *, now: datetime | None = None,
) -> Recorded:
    """Write the follow-up and its `followup.recorded` event in one transaction; the same
    id again returns the stored follow-up and writes nothing."""
    result = await store.write(_record_tx, settings, staff, data, now or utcnow())
    if result.created:
        crash_point("after_outbox_commit")
        store.outbox_committed()
    return result


def note_of(settings: EdgeSettings, follow_up: FollowUp) -> str:
    if not follow_up.note_enc:
        return ""
    return settings.cipher.decrypt(follow_up.note_enc, context=NOTE_CONTEXT)


async def _my_visits(
    session: AsyncSession, staff_id: int, day: str
) -> list[tuple[Visit, int]]:
    counts = (
        select(FollowUp.visit_id, func.count().label("n"))
        .group_by(col(FollowUp.visit_id))
        .subquery()
    )
    rows = await session.exec(
        select(Visit, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.visit_id == col(Visit.id))
        .where(Visit.visit_date == day,
               or_(col(Visit.consultant_id) == staff_id, col(Visit.owner_id) == staff_id))
        .order_by(col(Visit.occurred_at).desc())
    )
    return [(visit, int(n)) for visit, n in rows.all()]


async def my_visits_today(
    store: Store, staff: StaffUser, *, now: datetime | None = None
) -> list[tuple[Visit, int]]:
    """Today's (Asia/Shanghai) visits the consultant received or owns, newest first, with
    how many follow-ups each has."""
    day = shanghai_date(now or utcnow()).isoformat()
    return await store.read(_my_visits, staff.id, day)
