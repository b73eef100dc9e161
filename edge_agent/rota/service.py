"""Rota rules: check in (上岗) / out (下岗), away and back (补接 or to the tail / off the
day), turns consumed by receptions, the board (domain/reception-and-sales.md).

A turn is used by a new customer's reception (and a return customer's when the project's
setting says so) inside working hours; a stand-in (义务接待) keeps their turn. When a
consultant receives, whoever was ahead of them owing a penalty turn has now lost it and
goes to the tail. A new day starts with an empty queue: everybody checks in again.

Session-level functions run inside the caller's transaction (registration calls
`consume_turn` in its own); the `store`-level ones open one.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota import queue
from edge_agent.rota.queue import (
    ConsultantInactive,
    NotOnRota,
    Rota,
    UnknownConsultant,
    duty_day,
    member,
    rota_consultants,
)
from edge_agent.rota.schemas import (
    DutyChangeOut,
    RotaBoardOut,
    RotaConsultantOut,
    RotaEventOut,
)
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.store.models.reception import FIRST_VISIT, RotaDuty, RotaEvent, Visit
from edge_agent.store.models.site import Consultant
from shared.errors import ValidationFailed
from shared.reception import AWAY_LABELS, MAKE_UP_REASONS, AwayReason
from shared.timeutil import utcnow

__all__ = ["ConsultantInactive", "NotOnRota", "UnknownConsultant", "member",
           "rota_consultants"]

KIOSK_ACTOR = "kiosk"
VISIT_ACTOR = "kiosk:visit"
EVENTS_SHOWN = 50


class ConsultantSuspended(ValidationFailed):
    code = "consultant_suspended"
    title = "该置业顾问因拒接客户被暂停接待，暂停期内不能上岗"


class NotOnDuty(ValidationFailed):
    code = "not_on_duty"
    title = "该置业顾问今天未上岗，请先上岗"


class AlreadyAway(ValidationFailed):
    code = "already_away"
    title = "该置业顾问已处于离开状态，请先点“回岗”"


async def check_in_tx(session: AsyncSession, rota: Rota, consultant_id: int, now: datetime,
                      actor: str = KIOSK_ACTOR) -> bool:
    """Put the consultant at the tail of today's queue; False if already on duty."""
    await member(session, consultant_id)
    day = duty_day(now)
    until = await queue.suspended_until(session, consultant_id, day)
    if until is not None:
        raise ConsultantSuspended(extra={"consultant_id": consultant_id, "until": until})
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is not None and duty.on_duty:
        return False
    tail = await queue.tail_pos(session, day)
    if duty is None:
        duty = RotaDuty(duty_date=day, consultant_id=consultant_id, on_duty=True,
                        queue_pos=tail, checked_in_at=now, updated_at=now)
        reason = "上岗，排入接待队列队尾"
    else:
        duty.on_duty, duty.queue_pos, duty.checked_in_at = True, tail, now
        duty.checked_out_at, duty.updated_at = None, now
        duty.away_reason, duty.away_since = None, None
        reason = "重新上岗，排入接待队列队尾"
    session.add(duty)
    await queue.record(session, rota, day=day, now=now, consultant_id=consultant_id,
                       action="check_in", actor=actor, reason=reason, before=None)
    return True


async def check_out_tx(session: AsyncSession, rota: Rota, consultant_id: int, now: datetime,
                       actor: str = KIOSK_ACTOR, reason: str = "下岗，离开接待队列",
                       away_reason: AwayReason | None = None) -> bool:
    """Take the consultant off today's queue; False if not on duty."""
    await member(session, consultant_id)
    day = duty_day(now)
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is None or not duty.on_duty:
        return False
    before = await queue.position(session, day, rota.rules, consultant_id)
    duty.on_duty, duty.checked_out_at, duty.updated_at = False, now, now
    duty.away_reason, duty.away_since = away_reason, now if away_reason else None
    session.add(duty)
    await queue.record(session, rota, day=day, now=now, consultant_id=consultant_id,
                       action="check_out" if away_reason is None else "away", actor=actor,
                       reason=reason, before=before, away_reason=away_reason,
                       detail={"effect": "off"} if away_reason else None)
    return True


async def away_tx(session: AsyncSession, rota: Rota, consultant_id: int, reason: AwayReason,
                  now: datetime, actor: str = KIOSK_ACTOR, note: str = "") -> bool:
    """Away with a make-up reason keeps the place (补接); a drop reason sends the
    consultant to the tail or off today's queue, as the project's setting says."""
    await member(session, consultant_id)
    day = duty_day(now)
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is None or not duty.on_duty:
        raise NotOnDuty(extra={"consultant_id": consultant_id})
    if duty.away_reason is not None:
        raise AlreadyAway(extra={"consultant_id": consultant_id, "away": duty.away_reason})
    label = AWAY_LABELS[reason] + (f"（{note}）" if note else "")
    if reason in MAKE_UP_REASONS:
        effect = "keep"
        text = f"离开：{label}，保留排位，回岗后补接"
    else:
        effect = rota.rules.drop_effect(reason)
        if effect == "off":
            return await check_out_tx(session, rota, consultant_id, now, actor,
                                      f"离开：{label}，今日退出接待队列", reason)
        text = f"离开：{label}，排到队尾"
    before = await queue.position(session, day, rota.rules, consultant_id)
    if effect == "tail":
        duty.queue_pos = await queue.tail_pos(session, day)
    duty.away_reason, duty.away_since, duty.updated_at = reason, now, now
    session.add(duty)
    await queue.record(session, rota, day=day, now=now, consultant_id=consultant_id,
                       action="away", actor=actor, reason=text, before=before,
                       away_reason=reason, detail={"effect": effect})
    return True


async def back_tx(session: AsyncSession, rota: Rota, consultant_id: int, now: datetime,
                  actor: str = KIOSK_ACTOR) -> bool:
    """回岗: present again, at the place kept (补接) or taken at the tail."""
    await member(session, consultant_id)
    day = duty_day(now)
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is None or not duty.on_duty or duty.away_reason is None:
        return False
    before = await queue.position(session, day, rota.rules, consultant_id)
    was = duty.away_reason
    duty.away_reason, duty.away_since, duty.updated_at = None, None, now
    session.add(duty)
    await queue.record(session, rota, day=day, now=now, consultant_id=consultant_id,
                       action="back", actor=actor, reason=f"回岗（{AWAY_LABELS[was]}）",
                       before=before, away_reason=was)
    return True


def uses_turn(rota: Rota, visit: Visit) -> bool:
    """Whether this reception should use its receiver's turn (before working hours)."""
    if visit.consultant_id is None or visit.stand_in_for is not None:
        return False
    return visit.classification == FIRST_VISIT or rota.rules.return_consumes_turn


async def consume_turn(session: AsyncSession, rota: Rota, visit: Visit, now: datetime) -> bool:
    """In the registration's transaction: a counted reception sends its receiver, when on
    duty, to the tail. Returns whether a turn was used (kept on the visit)."""
    if not uses_turn(rota, visit):
        return False
    assert visit.consultant_id is not None
    day = visit.visit_date
    duty = await session.get(RotaDuty, (day, visit.consultant_id))
    if duty is None or not duty.on_duty:
        return False
    before = await queue.position(session, day, rota.rules, visit.consultant_id)
    if not rota.rules.in_working_hours(now):
        await queue.record(session, rota, day=day, now=now, consultant_id=visit.consultant_id,
                           action="turn_not_counted", actor=VISIT_ACTOR,
                           reason=f"非工作时间接待 {visit.phone_masked}，不计轮次",
                           before=before, visit_id=visit.id)
        return False
    order = await queue.ordered(session, day, rota.rules)
    ahead = [d for d in order[: (before or 1) - 1]
             if d.skip_turns > 0 and d.away_reason is None]
    visit.consumed_turn = True
    session.add(visit)
    duty.queue_pos, duty.updated_at = await queue.tail_pos(session, day), now
    session.add(duty)
    await queue.record(session, rota, day=day, now=now, consultant_id=visit.consultant_id,
                       action="turn_consumed", actor=VISIT_ACTOR,
                       reason=f"接待{'首访' if visit.classification == FIRST_VISIT else '复访'}"
                       f"客户 {visit.phone_masked}，轮到队尾", before=before,
                       visit_id=visit.id)
    for skipped in ahead:  # their turn went to the receiver: the penalty is served
        was = await queue.position(session, day, rota.rules, skipped.consultant_id)
        skipped.skip_turns -= 1
        skipped.queue_pos, skipped.updated_at = await queue.tail_pos(session, day), now
        session.add(skipped)
        await queue.record(session, rota, day=day, now=now,
                           consultant_id=skipped.consultant_id, action="turn_skipped",
                           actor=VISIT_ACTOR, reason="处罚：失去本轮接待，排到队尾",
                           before=was, visit_id=visit.id,
                           detail={"turns_left": skipped.skip_turns})
    return True


async def board_tx(session: AsyncSession, rota: Rota, now: datetime) -> RotaBoardOut:
    day = duty_day(now)
    members = await rota_consultants(session)
    rows_by_id = {d.consultant_id: d for d in await queue.duties(session, day)}
    order = await queue.ordered(session, day, rota.rules)
    ids = [d.consultant_id for d in order]
    counts = await session.exec(
        select(Visit.consultant_id, Visit.classification, func.count())
        .where(Visit.visit_date == day, col(Visit.consultant_id).is_not(None))
        .group_by(col(Visit.consultant_id), col(Visit.classification)))
    received: Counter[tuple[int | None, str]] = Counter()
    for consultant_id, classification, count in counts.all():
        received[(consultant_id, classification)] = int(count)
    counted = await queue.counted_today(session, day)
    rows = []
    for cid in ids + [c for c in members if c not in ids]:
        duty = rows_by_id.get(cid)
        rows.append(RotaConsultantOut(
            id=cid, name=members[cid].name, on_duty=cid in ids,
            position=ids.index(cid) + 1 if cid in ids else None,
            checked_in_at=duty.checked_in_at if duty is not None else None,
            checked_out_at=duty.checked_out_at if duty is not None else None,
            received_today=received[(cid, FIRST_VISIT)],
            return_visits_today=sum(n for (c, k), n in received.items()
                                    if c == cid and k != FIRST_VISIT),
            counted_today=counted[cid],
            away_reason=duty.away_reason if duty is not None else None,
            away_since=duty.away_since if duty is not None else None,
            skip_turns=duty.skip_turns if duty is not None else 0,
            suspended_until=await queue.suspended_until(session, cid, day),
        ))
    rules = rota.rules
    return RotaBoardOut(
        duty_date=date.fromisoformat(day), next_consultant_id=queue.next_receiver(order),
        order_mode=rules.order_mode, work_start=rules.work_start, work_end=rules.work_end,
        in_working_hours=rules.in_working_hours(now), consultants=rows)


async def events_tx(session: AsyncSession, now: datetime) -> list[RotaEventOut]:
    rows = await session.exec(
        select(RotaEvent, Consultant.name)
        .join(Consultant, col(Consultant.id) == RotaEvent.consultant_id, isouter=True)
        .where(RotaEvent.duty_date == duty_day(now))
        .order_by(col(RotaEvent.id).desc())
        .limit(EVENTS_SHOWN))
    out = []
    for event, name in rows.all():
        assert event.id is not None
        out.append(RotaEventOut(
            id=event.id, occurred_at=event.occurred_at, consultant_id=event.consultant_id,
            consultant_name=name, action=event.action,
            actor=event.actor, reason=event.reason, visit_id=event.visit_id,
            position_before=event.position_before, position_after=event.position_after,
            away_reason=event.away_reason, detail=event.detail or {}))
    return out


async def _board(session: AsyncSession, settings: EdgeSettings, now: datetime) -> RotaBoardOut:
    return await board_tx(session, await queue.rota_of(session, settings), now)


async def board(store: Store, settings: EdgeSettings, *,
                now: datetime | None = None) -> RotaBoardOut:
    return await store.read(_board, settings, now or utcnow())


async def events(store: Store, *, now: datetime | None = None) -> list[RotaEventOut]:
    """Today's queue changes, newest first."""
    return await store.read(events_tx, now or utcnow())


async def _change(session: AsyncSession, settings: EdgeSettings, action: str,
                  consultant_id: int, now: datetime, actor: str,
                  reason: AwayReason | None, note: str) -> DutyChangeOut:
    rota = await queue.rota_of(session, settings)
    if action == "check_in":
        changed = await check_in_tx(session, rota, consultant_id, now, actor)
    elif action == "check_out":
        changed = await check_out_tx(session, rota, consultant_id, now, actor)
    elif action == "away":
        assert reason is not None
        changed = await away_tx(session, rota, consultant_id, reason, now, actor, note)
    else:
        changed = await back_tx(session, rota, consultant_id, now, actor)
    current = await board_tx(session, rota, now)
    return DutyChangeOut(**current.model_dump(), changed=changed)


async def change(store: Store, settings: EdgeSettings, action: str, consultant_id: int, *,
                 now: datetime | None = None, actor: str = KIOSK_ACTOR,
                 reason: AwayReason | None = None, note: str = "") -> DutyChangeOut:
    """One queue change (check_in / check_out / away / back) and the board after it."""
    result = await store.write(_change, settings, action, consultant_id, now or utcnow(),
                               actor, reason, note)
    if result.changed:
        store.outbox_committed()
    return result


async def check_in(store: Store, settings: EdgeSettings, consultant_id: int, *,
                   now: datetime | None = None) -> DutyChangeOut:
    """上岗: the consultant joins the tail of today's queue (no change if already on)."""
    return await change(store, settings, "check_in", consultant_id, now=now)


async def check_out(store: Store, settings: EdgeSettings, consultant_id: int, *,
                    now: datetime | None = None) -> DutyChangeOut:
    """下岗: the consultant leaves today's queue (no change if already off)."""
    return await change(store, settings, "check_out", consultant_id, now=now)
