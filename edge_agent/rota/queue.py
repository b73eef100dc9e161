"""The reception queue of one Asia/Shanghai day, and the record of every change to it.

The queue is the on-duty `rota_duty` rows, ordered by `queue_pos` (mode `check_in`) or
by the new customers counted today, then `queue_pos` (mode `fewest_new`). Checking in,
receiving a counted customer and a drop reason give a row the day's next position — the
tail. The next to receive is the first row neither away nor owing a penalty turn.

Every change writes a `rota_event` row and its `rota.changed` outbox event in the
caller's transaction: the cloud sees the rota's history even after a day offline.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota.rules import rota_project, rules_of
from edge_agent.settings import EdgeSettings
from edge_agent.store import outbox
from edge_agent.store.models.reception import RotaDuty, RotaEvent, RotaSuspension, Visit
from edge_agent.store.models.site import Consultant, Project
from shared.errors import ValidationFailed
from shared.reception import ReceptionRules
from shared.reception_events import ROTA_CHANGED, RotaAction, RotaChanged
from shared.timeutil import shanghai_date

ROTA_ROLE = "consultant"


class UnknownConsultant(ValidationFailed):
    code = "unknown_consultant"
    title = "置业顾问不存在"


class ConsultantInactive(ValidationFailed):
    code = "consultant_inactive"
    title = "该置业顾问已停用，不能上岗或接待客户"


class NotOnRota(ValidationFailed):
    code = "not_on_rota"
    title = "该人员不是置业顾问（如销售经理），不参加接待轮岗，不能上岗或接待客户"


@dataclass(frozen=True)
class Rota:
    """What a rota change needs: the agent's settings (cipher), the rules, and the project
    its events are filed under (the cloud accepts only events of a project of the site)."""

    settings: EdgeSettings
    rules: ReceptionRules
    project_id: int | None


async def rota_of(session: AsyncSession, settings: EdgeSettings) -> Rota:
    project_id = rota_project(settings)
    if project_id is None:  # no default: the office's first project the cloud sent
        project_id = (await session.exec(select(func.min(Project.id)).where(
            col(Project.active).is_(True)))).one()
    return Rota(settings, await rules_of(session, rota_project(settings)), project_id)


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


async def duties(session: AsyncSession, day: str) -> list[RotaDuty]:
    rows = await session.exec(select(RotaDuty).where(RotaDuty.duty_date == day))
    return list(rows.all())


async def counted_today(session: AsyncSession, day: str) -> Counter[int]:
    """Customers each consultant received today that used a turn (fewest-new mode)."""
    rows = await session.exec(
        select(Visit.consultant_id, func.count())
        .where(Visit.visit_date == day, col(Visit.consumed_turn).is_(True))
        .group_by(col(Visit.consultant_id)))
    return Counter({int(cid): int(n) for cid, n in rows.all() if cid is not None})


async def ordered(session: AsyncSession, day: str, rules: ReceptionRules) -> list[RotaDuty]:
    """Today's on-duty rows in queue order (only those still on the roster)."""
    members = await rota_consultants(session)
    on = [d for d in await duties(session, day) if d.on_duty and d.consultant_id in members]
    if rules.order_mode == "fewest_new":
        counts = await counted_today(session, day)
        return sorted(on, key=lambda d: (counts[d.consultant_id], d.queue_pos))
    return sorted(on, key=lambda d: d.queue_pos)


def next_receiver(order: list[RotaDuty]) -> int | None:
    """The head, passing those away and those owing a penalty turn."""
    present = [d for d in order if d.away_reason is None]
    due = [d for d in present if d.skip_turns == 0] or present
    return due[0].consultant_id if due else None


async def position(session: AsyncSession, day: str, rules: ReceptionRules,
                   consultant_id: int) -> int | None:
    ids = [d.consultant_id for d in await ordered(session, day, rules)]
    return ids.index(consultant_id) + 1 if consultant_id in ids else None


async def tail_pos(session: AsyncSession, day: str) -> int:
    highest = await session.exec(
        select(func.max(RotaDuty.queue_pos)).where(RotaDuty.duty_date == day))
    return int(highest.one() or 0) + 1


async def suspended_until(session: AsyncSession, consultant_id: int, day: str) -> str | None:
    """The last day of a suspension covering `day`, if any."""
    rows = await session.exec(
        select(func.max(RotaSuspension.until_date)).where(
            RotaSuspension.consultant_id == consultant_id, RotaSuspension.until_date >= day))
    until = rows.one()
    return str(until) if until else None


async def record(
    session: AsyncSession,
    rota: Rota,
    *,
    day: str,
    now: datetime,
    consultant_id: int,
    action: RotaAction,
    actor: str,
    reason: str,
    before: int | None,
    visit_id: uuid.UUID | None = None,
    away_reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The change's `rota_event` row and its outbox event, in the caller's transaction.
    An appliance that has no project yet (never synced) keeps the row only: the cloud
    would refuse an event filed under no project of the site."""
    await session.flush()
    after = await position(session, day, rota.rules, consultant_id)
    row = RotaEvent(
        duty_date=day, occurred_at=now, consultant_id=consultant_id, action=action,
        actor=actor[:64], reason=reason[:200], visit_id=visit_id, position_before=before,
        position_after=after, away_reason=away_reason, detail=detail or None)
    session.add(row)
    if rota.project_id is None:
        return
    event = RotaChanged(
        rota_event_id=uuid.uuid4(), project_id=rota.project_id,
        duty_date=date.fromisoformat(day),
        occurred_at=now, consultant_id=consultant_id, action=action, actor=row.actor,
        reason=row.reason, away_reason=away_reason, visit_id=visit_id,
        position_before=before, position_after=after, detail=detail or {})
    await outbox.append(session, rota.settings.cipher, event_type=ROTA_CHANGED,
                        event_id=uuid.uuid4(), occurred_at=now,
                        payload=event.model_dump(mode="json"), now=now)
