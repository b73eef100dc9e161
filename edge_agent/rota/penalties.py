"""Penalties (settings of the project): a refusal suspends the consultant from the rota
for N days; a skipped question or cherry-picking costs the next turn(s). Given by a sales
manager on the staff app; each is a rota event with who and why."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota import queue
from edge_agent.rota.queue import Rota, duty_day, member
from edge_agent.rota.service import NotOnDuty, check_out_tx
from edge_agent.settings import EdgeSettings
from edge_agent.store.models.reception import RotaDuty, RotaSuspension
from shared.reception import PENALTY_LABELS, PenaltyKind
from shared.timeutil import shanghai_date


async def penalise_tx(session: AsyncSession, rota: Rota, consultant_id: int, kind: PenaltyKind,
                      note: str, *, actor: str, now: datetime) -> dict[str, object]:
    await member(session, consultant_id)
    day = duty_day(now)
    text = f"处罚：{PENALTY_LABELS[kind]}（{note}）"
    if kind == "refusal":
        days = rota.rules.refusal_suspend_days
        until = (shanghai_date(now) + timedelta(days=max(days, 1) - 1)).isoformat()
        session.add(RotaSuspension(consultant_id=consultant_id, until_date=until,
                                   reason=text[:200], actor=actor, created_at=now))
        before = await queue.position(session, day, rota.rules, consultant_id)
        await queue.record(session, rota, day=day, now=now, consultant_id=consultant_id,
                           action="suspended", actor=actor, reason=f"{text}，暂停接待至 {until}",
                           before=before, detail={"kind": kind, "until": until})
        await check_out_tx(session, rota, consultant_id, now, actor, "暂停接待，退出今日队列")
        return {"kind": kind, "suspended_until": until}
    duty = await session.get(RotaDuty, (day, consultant_id))
    if duty is None or not duty.on_duty:
        raise NotOnDuty(extra={"consultant_id": consultant_id})
    turns = rota.rules.penalty_turns(kind)
    duty.skip_turns += turns
    duty.updated_at = now
    session.add(duty)
    before = await queue.position(session, day, rota.rules, consultant_id)
    await queue.record(session, rota, day=day, now=now, consultant_id=consultant_id,
                       action="penalty", actor=actor, reason=f"{text}，失去接下来 {turns} 次轮次",
                       before=before, detail={"kind": kind, "turns": turns})
    return {"kind": kind, "skip_turns": duty.skip_turns}


async def penalise(session: AsyncSession, settings: EdgeSettings, consultant_id: int,
                   kind: PenaltyKind, note: str, *, actor: str,
                   now: datetime) -> dict[str, object]:
    rota = await queue.rota_of(session, settings)
    return await penalise_tx(session, rota, consultant_id, kind, note, actor=actor, now=now)
