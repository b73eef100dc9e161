"""Incoming calls (来电登记) on the edge: written with their `call.recorded` outbox event in
one transaction, idempotent by the device's id, offline like visits. The phone is kept
as visits keep it: encrypted, with the site's blind index and the masked form.

The time is the appliance's when the call is registered while or just after it is
answered (the kiosk). A call the PWA queued while the appliance was out of reach carries
when the phone saved it, believed as a follow-up's is: never later than this clock.
Who answered works the site's customers (shared.roster): a sales director signs in to the
PWA but answers no calls for the figures.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.crash import crash_point
from edge_agent.kiosk.lookup import resolve_project
from edge_agent.kiosk.service import PHONE_CONTEXT, UnknownProject
from edge_agent.rota import queue as rota_queue
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.customers import IncomingCall
from edge_agent.store.models.site import Consultant, Project
from shared.errors import Conflict, ValidationFailed
from shared.phone import mask_phone, normalise_phone
from shared.reception_events import CALL_RECORDED, CallDraft, CallRecorded
from shared.roster import works_customers
from shared.timeutil import as_utc, shanghai_date, utcnow

NAME_CONTEXT = "call.name"


class NotCallAnswerer(ValidationFailed):
    code = "not_call_answerer"
    title = "来电只登记给接听的置业顾问或销售经理；销售总监不登记来电"


class CallIdReused(Conflict):
    code = "idempotency_key_reused"
    title = "该来电记录 id 已用于另一个号码的登记，请重新填写"


@dataclass(frozen=True)
class Recorded:
    call: IncomingCall
    created: bool


@dataclass(frozen=True)
class _Request:
    data: CallDraft
    phone: str
    project_id: int
    consultant_id: int | None
    recorded_by: str
    now: datetime


async def _check_project(session: AsyncSession, settings: EdgeSettings, project_id: int) -> None:
    if project_id != settings.default_project_id:
        known = await session.get(Project, project_id)
        if known is None or not known.active:
            raise UnknownProject(extra={"project_id": project_id})


async def _check_consultant(session: AsyncSession, consultant_id: int) -> None:
    """Whoever answered is on the office's staff roster (a manager answers calls too) and
    works its customers (not a sales director)."""
    consultant = await session.get(Consultant, consultant_id)
    if consultant is None:
        raise rota_queue.UnknownConsultant(extra={"consultant_id": consultant_id})
    if not consultant.active:
        raise rota_queue.ConsultantInactive(extra={"consultant_id": consultant_id})
    if not works_customers(consultant.roles):
        raise NotCallAnswerer(extra={"consultant_id": consultant_id})


async def _record_tx(session: AsyncSession, settings: EdgeSettings, req: _Request) -> Recorded:
    """The call and its outbox row, or nothing."""
    bidx = settings.blind_index.phone(req.phone)
    existing = await session.get(IncomingCall, req.data.id)
    if existing is not None:
        if (existing.project_id, existing.phone_bidx) != (req.project_id, bidx):
            raise CallIdReused()
        return Recorded(existing, created=False)
    await _check_project(session, settings, req.project_id)
    if req.consultant_id is not None:
        await _check_consultant(session, req.consultant_id)
    data, event_id = req.data, uuid.uuid4()
    # A device clock ahead of ours is not believed.
    occurred = min(as_utc(data.occurred_at), req.now) if data.occurred_at else req.now
    payload = CallRecorded(
        call_id=data.id, project_id=req.project_id, phone=req.phone, name=data.name or None,
        awareness=data.awareness, consultant_id=req.consultant_id, occurred_at=occurred,
        recorded_by=req.recorded_by)
    seq = await outbox.append(
        session, settings.cipher, event_type=CALL_RECORDED, event_id=event_id,
        occurred_at=occurred, payload=payload.model_dump(mode="json"), now=req.now)
    call = IncomingCall(
        id=data.id, project_id=req.project_id,
        phone_enc=settings.cipher.encrypt(req.phone, context=PHONE_CONTEXT),
        phone_bidx=bidx, phone_masked=mask_phone(req.phone),
        name_enc=settings.cipher.encrypt(data.name, context=NAME_CONTEXT) if data.name else None,
        awareness=data.awareness, consultant_id=req.consultant_id,
        recorded_by=req.recorded_by, occurred_at=occurred,
        call_date=shanghai_date(occurred).isoformat(), seq=seq, event_id=event_id)
    session.add(call)
    await session.flush()
    crash_point("in_outbox_tx")
    return Recorded(call, created=True)


async def record_call(
    store: Store, settings: EdgeSettings, data: CallDraft, *, recorded_by: str,
    consultant_id: int | None, now: datetime | None = None,
) -> Recorded:
    """Write the call and its event; the same id again returns the stored call and writes
    nothing. `consultant_id` is who answered (site staff), `recorded_by` the actor."""
    req = _Request(data=data, phone=normalise_phone(data.phone),
                   project_id=resolve_project(settings, data.project_id),
                   consultant_id=consultant_id, recorded_by=recorded_by, now=now or utcnow())
    result = await store.write(_record_tx, settings, req)
    if result.created:
        crash_point("after_outbox_commit")
        store.outbox_committed()
    return result


def name_of(settings: EdgeSettings, call: IncomingCall) -> str | None:
    if not call.name_enc:
        return None
    return settings.cipher.decrypt(call.name_enc, context=NAME_CONTEXT)


async def _calls_on(session: AsyncSession, day: str, consultant_id: int | None
                    ) -> list[IncomingCall]:
    stmt = select(IncomingCall).where(IncomingCall.call_date == day)
    if consultant_id is not None:
        stmt = stmt.where(IncomingCall.consultant_id == consultant_id)
    return list((await session.exec(stmt.order_by(col(IncomingCall.occurred_at).desc()))).all())


async def calls_today(store: Store, *, consultant_id: int | None = None,
                      now: datetime | None = None) -> list[IncomingCall]:
    """Today's (Asia/Shanghai) calls, newest first; a consultant's own when named."""
    day = shanghai_date(now or utcnow()).isoformat()
    return await store.read(_calls_on, day, consultant_id)
