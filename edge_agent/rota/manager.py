"""A sales manager's reception actions on the staff app, offline too: settings, claims of
forgotten-name visits, same-day corrections of a visit (no back-filling of earlier
days). Each writes its event in the same transaction; the cloud audits them on arrival."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk import reception
from edge_agent.rota import queue
from edge_agent.rota.queue import duty_day, member
from edge_agent.rota.rules import rota_project, save_rules
from edge_agent.settings import EdgeSettings
from edge_agent.store.models.reception import Visit
from shared.errors import NotFound, ValidationFailed
from shared.events import VisitSource
from shared.reception import ReceptionRules
from shared.reception_events import VisitProfile


class VisitNotFound(NotFound):
    code = "visit_not_found"
    title = "到访记录不存在"


class CorrectionClosed(ValidationFailed):
    code = "visit_correction_closed"
    title = "只能在到访当天更正，不能补录或修改以前日期的到访"


class NotClaimable(ValidationFailed):
    code = "visit_not_claimable"
    title = "该到访不是“来过但忘了顾问”的登记，或认领期已过"


class NoRotaProject(ValidationFailed):
    code = "project_required"
    title = "本案场未配置默认项目，无法保存接待设置"


async def _visit(session: AsyncSession, visit_id: uuid.UUID) -> Visit:
    visit = await session.get(Visit, visit_id)
    if visit is None:
        raise VisitNotFound(extra={"visit_id": str(visit_id)})
    return visit


async def set_rules(session: AsyncSession, settings: EdgeSettings, rules: ReceptionRules,
                    manager_id: int, now: datetime) -> ReceptionRules:
    project_id = rota_project(settings)
    if project_id is None:
        raise NoRotaProject()
    changed = await save_rules(session, project_id, rules, by=manager_id, now=now, via="site")
    if changed:
        rota = queue.Rota(settings, rules, project_id)
        await queue.record(session, rota, day=duty_day(now), now=now,
                           consultant_id=manager_id, action="settings_changed",
                           actor=f"user:{manager_id}", reason="经理修改接待设置",
                           before=None,
                           # In full: the cloud keeps the newer change (ADR 0051).
                           detail={"changed": changed, "rules": rules.model_dump(mode="json")})
    return rules


async def claim(session: AsyncSession, settings: EdgeSettings, visit_id: uuid.UUID,
                claimant_id: int, manager_id: int, now: datetime) -> Visit:
    """The earlier consultant takes the forgotten-name customer within the window."""
    visit = await _visit(session, visit_id)
    if visit.claimable_until is None or duty_day(now) > visit.claimable_until:
        raise NotClaimable(extra={"claimable_until": visit.claimable_until})
    claimant = await member(session, claimant_id)
    rota = await queue.rota_of(session, settings)
    receiver = visit.owner_id
    visit.owner_id, visit.owner_name = claimant.id, claimant.name
    visit.claimable_until = None
    session.add(visit)
    await queue.record(session, rota, day=duty_day(now), now=now, consultant_id=claimant.id,
                       action="claimed", actor=f"user:{manager_id}",
                       reason=f"认领“忘了顾问”的客户 {visit.phone_masked}（经理确认）",
                       before=None, visit_id=visit.id, detail={"receiver": receiver})
    return visit


async def correct(session: AsyncSession, settings: EdgeSettings, visit_id: uuid.UUID, *,
                  profile: VisitProfile, party_size: int | None, source: VisitSource | None,
                  reason: str, manager_id: int, now: datetime) -> Visit:
    """Same-day correction; the visit's day is its Asia/Shanghai registration day."""
    visit = await _visit(session, visit_id)
    if visit.visit_date != duty_day(now):
        raise CorrectionClosed(extra={"visit_date": visit.visit_date})
    visit.profile = profile.model_dump(mode="json", exclude_none=True)
    visit.profile_revision += 1
    if party_size is not None:
        visit.party_size = party_size
    if source is not None:
        visit.source = source
    session.add(visit)
    await session.flush()
    await reception.append_profile(session, await queue.rota_of(session, settings), visit,
                                   profile, now, corrected_by=manager_id, reason=reason)
    return visit


async def stand_ins_for(session: AsyncSession, owner_id: int, now: datetime) -> list[Visit]:
    """Today's visits of the owner's customers received by a stand-in (the notice)."""
    rows = await session.exec(
        select(Visit).where(Visit.visit_date == duty_day(now), Visit.stand_in_for == owner_id)
        .order_by(col(Visit.occurred_at).desc()))
    return list(rows.all())


async def claimable(session: AsyncSession, now: datetime) -> list[Visit]:
    """Forgotten-name visits still in their claim window, newest first: the manager's list
    to assign to the consultant who received the customer before."""
    rows = await session.exec(
        select(Visit).where(col(Visit.claimable_until) >= duty_day(now))
        .order_by(col(Visit.occurred_at).desc()))
    return list(rows.all())
