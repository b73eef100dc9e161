"""Who a prospecting task is for: the task's choice (chosen agencies, chosen brokers, the
agencies of channel teams, every agency cooperating on its projects) resolved to agency or
broker rows with their targets. Only active partners allowed on at least one of the
task's projects (合作渠道: a project that lists none is open to every agency) are taken.
In the teams and cooperating modes `assignees` sets the target of some of the agencies
found (each with its target); the others take the task's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.channel.errors import AgencyNotFound, BrokerNotFound, ProspectingTaskInvalid
from cloud.channel.models import Agency, Broker, Cooperation
from cloud.channel.prospecting_schemas import AssigneeIn


@dataclass(frozen=True)
class Resolved:
    kind: str  # agency | broker
    id: int
    target: int


def _invalid(message: str, field: str) -> ProspectingTaskInvalid:
    return ProspectingTaskInvalid(message, extra={"field": field})


def _open_agencies(session: Session, project_ids: Sequence[int]) -> set[int] | None:
    """The agencies allowed on at least one project; None: one project is open to all."""
    listed: dict[int, set[int]] = {p: set() for p in project_ids}
    for row in session.exec(select(Cooperation).where(
            col(Cooperation.project_id).in_(project_ids))).all():
        listed[row.project_id].add(row.agency_id)
    if any(not agencies for agencies in listed.values()):
        return None
    return set().union(*listed.values())


def resolve(session: Session, *, mode: str, project_ids: Sequence[int],
            assignees: Sequence[AssigneeIn], teams: Sequence[str], target: int,
            kept: bool = False) -> list[Resolved]:
    """`kept`: the assignees are a running task's own targets carried over an edit — one
    for an agency no longer found (moved to another team) is dropped, not refused."""
    if mode in ("agencies", "brokers"):
        if teams:
            raise _invalid("按渠道公司或经纪人指派时不能选择渠道团队", "teams")
        if not assignees:
            raise _invalid("请至少选择一个" + ("渠道公司" if mode == "agencies" else "经纪人"),
                           "assignees")
        ids = [a.id for a in assignees]
        if len(set(ids)) != len(ids):
            raise _invalid("指派对象不能重复", "assignees")
        targets = {a.id: a.target or target for a in assignees}
        if mode == "agencies":
            return _agencies(session, project_ids, targets)
        return _brokers(session, project_ids, targets)
    overrides = {a.id: a.target for a in assignees}
    if len(overrides) != len(assignees):
        raise _invalid("指派对象不能重复", "assignees")
    if any(t is None for t in overrides.values()):
        raise _invalid("按渠道团队或合作渠道指派时，单独设置目标须填写目标数", "assignees")
    allowed = _open_agencies(session, project_ids)
    query = select(Agency).where(Agency.status == "active")
    if allowed is not None:
        query = query.where(col(Agency.id).in_(allowed))
    if mode == "teams":
        if not teams:
            raise _invalid("请至少选择一个渠道团队", "teams")
        if len(set(teams)) != len(teams):
            raise _invalid("渠道团队不能重复", "teams")
        found = session.exec(query.where(col(Agency.team).in_(teams))
                             .order_by(col(Agency.id))).all()
        empty = sorted(set(teams) - {a.team for a in found})
        if empty:
            raise _invalid(f"渠道团队「{empty[0]}」没有可指派的已激活合作渠道公司", "teams")
    else:
        if teams:
            raise _invalid("按合作渠道指派时不能选择渠道团队", "teams")
        found = session.exec(query.order_by(col(Agency.id))).all()
        if not found:
            raise _invalid("任务的项目没有已激活的合作渠道公司", "assign_mode")
    outside = sorted(set(overrides) - {a.id for a in found})
    if outside and not kept:
        raise _invalid("单独设置目标的渠道公司不在所选渠道团队或合作渠道中", "assignees")
    return [Resolved("agency", a.id or 0, overrides.get(a.id or 0) or target) for a in found]


def _agencies(session: Session, project_ids: Sequence[int], targets: dict[int, int]
              ) -> list[Resolved]:
    found = {a.id: a for a in session.exec(select(Agency).where(
        col(Agency.id).in_(targets))).all()}
    if len(found) != len(targets):
        raise AgencyNotFound()
    allowed = _open_agencies(session, project_ids)
    for agency_id in targets:
        agency = found[agency_id]
        if agency.status != "active":
            raise _invalid(f"渠道公司「{agency.name}」未激活，不能指派", "assignees")
        if allowed is not None and agency_id not in allowed:
            raise _invalid(f"渠道公司「{agency.name}」未与任务的项目合作", "assignees")
    return [Resolved("agency", i, t) for i, t in targets.items()]


def _brokers(session: Session, project_ids: Sequence[int], targets: dict[int, int]
             ) -> list[Resolved]:
    found = {b.id: b for b in session.exec(select(Broker).where(
        col(Broker.id).in_(targets))).all()}
    if len(found) != len(targets):
        raise BrokerNotFound()
    allowed = _open_agencies(session, project_ids)
    for broker_id in targets:
        broker = found[broker_id]
        if broker.status != "active":
            raise _invalid(f"经纪人 {broker.phone_masked} 未激活，不能指派", "assignees")
        # Individual referrers (全民营销) may refer to any project.
        if (allowed is not None and broker.agency_id is not None
                and broker.agency_id not in allowed):
            raise _invalid(f"经纪人 {broker.phone_masked} 所在渠道公司未与任务的项目合作",
                           "assignees")
    return [Resolved("broker", i, t) for i, t in targets.items()]
