"""Rota rules: check in (上岗) / out (下岗), the reception queue, turns consumed by visits.

The queue of one Asia/Shanghai day is the on-duty `rota_duty` rows ordered by
`queue_pos`. Checking in, and receiving a new customer (a first visit), give the row the
day's next position — the tail — so the head is always who waited longest. A return
visit goes to its owner and consumes no turn (domain/reception-and-sales.md). A new day
starts with an empty queue: everybody checks in again. Every change writes a
`rota_event` row in the same transaction (who, what, why).

Session-level functions run inside the caller's transaction (registration calls
`consume_turn` in its own); the `store`-level ones open one.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota.schemas import (
    DutyChangeOut,
    RotaAction,
    RotaBoardOut,
    RotaConsultantOut,
    RotaEventOut,
)
from edge_agent.store import Store
from edge_agent.store.models import FIRST_VISIT, Consultant, RotaDuty, RotaEvent, Visit
from shared.errors import ValidationFailed
from shared.timeutil import shanghai_date, utcnow

ROTA_ROLE = "consultant"
KIOSK_ACTOR = "kiosk"
VISIT_ACTOR = "kiosk:visit"
EVENTS_SHOWN = 50


class UnknownConsultant(ValidationFailed):
    code = "unknown_consultant"
    title = "置业顾问不存在"


class ConsultantInactive(ValidationFailed):
    code = "consultant_inactive"
    title = "该置业顾问已停用，不能上岗或接待客户"


class NotOnRota(ValidationFailed):
    code = "not_on_rota"
    title = "该人员不是置业顾问（如销售经理），不参加接待轮岗，不能上岗或接待客户"


def duty_day(now: datetime) -> str:
    return shanghai_date(now).isoformat()


def on_rota(consultant: Consultant) -> bool:
    return consultant.active and ROTA_ROLE in consultant.roles


async def rota_consultants(session: AsyncSession) -> dict[int, Consultant]:
    """Who may be on duty and receive customers: active staff with the consultant role."""
    rows = await session.exec(select(Consultant).order_by(col(Consultant.id)))
    return {c.id: c for c in rows.all() if on_rota(c)}


async def member(session: AsyncSession, consultant_id: int) -> Consultant:
    """The consultant, if they may be on duty and receive customers; else a problem."""
    consultant = await session.get(Consultant, consultant_id)
    if consultant is None:
        raise UnknownConsultant(extra={"consultant_id": consultant_id})
    if not consultant.active:
        raise ConsultantInactive(extra={"consultant_id": consultant_id})
    if ROTA_ROLE not in consultant.roles:
        raise NotOnRota(extra={"consultant_id": consultant_id})
    return consultant


async def _duties(session: AsyncSession, day: str) -> list[RotaDuty]:
    rows = await session.exec(select(RotaDuty).where(RotaDuty.duty_date == day))
    return list(rows.all())


async def queue(session: AsyncSession, day: str) -> list[int]:
    """Consultant ids on duty on `day`, head first (only those still on the roster)."""
    members = await rota_consultants(session)
    on_duty = [d for d in await _duties(session, day) if d.on_duty and d.consultant_id in members]
    return [d.consultant_id for d in sorted(on_duty, key=lambda d: d.queue_pos)]


async def _position(session: AsyncSession, day: str, consultant_id: int) -> int | None:
    order = await queue(session, day)
    return order.index(consultant_id) + 1 if consultant_id in order else None


async def _tail_pos(session: AsyncSession, day: str) -> int:
    highest = await session.exec(
        select(func.max(RotaDuty.queue_pos)).where(RotaDuty.duty_date == day)
    )
    return int(highest.one() or 0) + 1


async def _record(
    session: AsyncSession,
    *,
    day: str,
    now: datetime,
    consultant_id: int,
    action: RotaAction,
    actor: str,
    reason: str,
    before: int | None,
    visit_id: uuid.UUID | None = None,
) -> None:
    await session.flush()
    session.add(
        RotaEvent(
            duty_date=day,
            occurred_at=now,
            consultant_id=consultant_id,
            action=action,
            actor=actor,
            reason=reason,
            visit_id=visit_id,
            position_before=before,
            position_after=await _position(session, day, consultant_id),
        )
    )
    await session.flush()


async def check_in_tx(
    session: AsyncSession, consultant_id: int, now: datetime, actor: str = KIOSK_ACTOR
) -> bool:
    """Put the consultant at the tail of today's queue; False if already on duty."""
    await member(session, consultant_id)
    day = duty_day(now)
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is not None and duty.on_duty:
        return False
    tail = await _tail_pos(session, day)
    if duty is None:
        duty = RotaDuty(duty_date=day, consultant_id=consultant_id, on_duty=True,
                        queue_pos=tail, checked_in_at=now, updated_at=now)
        reason = "上岗，排入接待队列队尾"
    else:
        duty.on_duty, duty.queue_pos, duty.checked_in_at = True, tail, now
        duty.checked_out_at, duty.updated_at = None, now
        reason = "重新上岗，排入接待队列队尾"
    session.add(duty)
    await _record(session, day=day, now=now, consultant_id=consultant_id, action="check_in",
                  actor=actor, reason=reason, before=None)
    return True


async def check_out_tx(
    session: AsyncSession, consultant_id: int, now: datetime, actor: str = KIOSK_ACTOR
) -> bool:
    """Take the consultant off today's queue; False if not on duty."""
    await member(session, consultant_id)
    day = duty_day(now)
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is None or not duty.on_duty:
        return False
    before = await _position(session, day, consultant_id)
    duty.on_duty, duty.checked_out_at, duty.updated_at = False, now, now
    session.add(duty)
    await _record(session, day=day, now=now, consultant_id=consultant_id, action="check_out",
                  actor=actor, reason="下岗，离开接待队列", before=before)
    return True


async def consume_turn(session: AsyncSession, visit: Visit, now: datetime) -> bool:
    """In the registration's transaction: a new customer's visit sends its receiving
    consultant, when on duty, to the tail of the queue. Returns whether a turn was used."""
    if visit.classification != FIRST_VISIT or visit.consultant_id is None:
        return False
    day = visit.visit_date
    duty = await session.get(RotaDuty, (day, visit.consultant_id))
    if duty is None or not duty.on_duty:
        return False
    before = await _position(session, day, visit.consultant_id)
    duty.queue_pos, duty.updated_at = await _tail_pos(session, day), now
    session.add(duty)
    await _record(session, day=day, now=now, consultant_id=visit.consultant_id,
                  action="turn_consumed", actor=VISIT_ACTOR,
                  reason=f"接待首访客户 {visit.phone_masked}，轮到队尾", before=before,
                  visit_id=visit.id)
    return True


async def board_tx(session: AsyncSession, now: datetime) -> RotaBoardOut:
    day = duty_day(now)
    members = await rota_consultants(session)
    duties = {d.consultant_id: d for d in await _duties(session, day)}
    order = await queue(session, day)
    counts = await session.exec(
        select(Visit.consultant_id, Visit.classification, func.count())
        .where(Visit.visit_date == day, col(Visit.consultant_id).is_not(None))
        .group_by(col(Visit.consultant_id), col(Visit.classification))
    )
    received: Counter[tuple[int | None, str]] = Counter()
    for consultant_id, classification, count in counts.all():
        received[(consultant_id, classification)] = int(count)
    off_duty = [cid for cid in members if cid not in order]
    rows = []
    for cid in order + off_duty:
        duty = duties.get(cid)
        rows.append(
            RotaConsultantOut(
                id=cid,
                name=members[cid].name,
                on_duty=cid in order,
                position=order.index(cid) + 1 if cid in order else None,
                checked_in_at=duty.checked_in_at if duty is not None else None,
                checked_out_at=duty.checked_out_at if duty is not None else None,
                received_today=received[(cid, FIRST_VISIT)],
                return_visits_today=sum(n for (c, k), n in received.items()
                                        if c == cid and k != FIRST_VISIT),
            )
        )
    return RotaBoardOut(duty_date=date.fromisoformat(day),
                        next_consultant_id=order[0] if order else None, consultants=rows)


async def events_tx(session: AsyncSession, now: datetime) -> list[RotaEventOut]:
    day = duty_day(now)
    rows = await session.exec(
        select(RotaEvent, Consultant.name)
        .join(Consultant, col(Consultant.id) == RotaEvent.consultant_id, isouter=True)
        .where(RotaEvent.duty_date == day)
        .order_by(col(RotaEvent.id).desc())
        .limit(EVENTS_SHOWN)
    )
    out = []
    for event, name in rows.all():
        assert event.id is not None
        out.append(
            RotaEventOut(
                id=event.id, occurred_at=event.occurred_at, consultant_id=event.consultant_id,
                consultant_name=name, action=event.action,
                actor=event.actor, reason=event.reason, visit_id=event.visit_id,
                position_before=event.position_before, position_after=event.position_after,
            )
        )
    return out


async def board(store: Store, *, now: datetime | None = None) -> RotaBoardOut:
    return await store.read(board_tx, now or utcnow())


async def events(store: Store, *, now: datetime | None = None) -> list[RotaEventOut]:
    """Today's queue changes, newest first."""
    return await store.read(events_tx, now or utcnow())


async def _change(
    session: AsyncSession, check_in: bool, consultant_id: int, now: datetime
) -> DutyChangeOut:
    step = check_in_tx if check_in else check_out_tx
    changed = await step(session, consultant_id, now)
    current = await board_tx(session, now)
    return DutyChangeOut(**current.model_dump(), changed=changed)


async def check_in(
    store: Store, consultant_id: int, *, now: datetime | None = None
) -> DutyChangeOut:
    """上岗: the consultant joins the tail of today's queue (no change if already on)."""
    return await store.write(_change, True, consultant_id, now or utcnow())


async def check_out(
    store: Store, consultant_id: int, *, now: datetime | None = None
) -> DutyChangeOut:
    """下岗: the consultant leaves today's queue (no change if already off)."""
    return await store.write(_change, False, consultant_id, now or utcnow())
