"""Prospecting tasks (拓客任务): a channel manager sets a target of one metric over a
period of Beijing days on projects of theirs, for agencies or brokers, optionally under a
campaign. Lifecycle: draft → published → closed, and draft / published → cancelled.
Channel staff see a task with any project of their sites and change only one whose
projects are all theirs (as campaigns). Completion is counted, never typed
(cloud.channel.prospecting_progress)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel import campaigns, prospecting_notices, scopes
from cloud.channel.errors import (
    ProspectingTaskInvalid,
    ProspectingTaskLocked,
    ProspectingTaskNotFound,
    ProspectingTaskOutsideScope,
    StatusChangeNotAllowed,
)
from cloud.channel.prospecting_assign import Resolved, resolve
from cloud.channel.prospecting_board import Board, boards
from cloud.channel.prospecting_models import (
    ProspectingAssignee,
    ProspectingTask,
    ProspectingTaskProject,
)
from cloud.channel.prospecting_schemas import (
    METRIC_NAMES,
    AssigneeIn,
    TaskDetailOut,
    TaskIn,
    TaskOut,
    TaskUpdate,
)
from cloud.identity.deps import Principal
from shared.timeutil import SHANGHAI, shanghai_date, utcnow

MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"published", "cancelled"}),
    "published": frozenset({"closed", "cancelled"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
MAX_DAYS = 366
TASKS_LISTED = 200
# What a published task keeps: changing them would rewrite what was already counted.
FROZEN_AFTER_PUBLISH = ("metric", "project_ids", "start_date")


def beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def period_dates(task: ProspectingTask) -> tuple[date, date]:
    return shanghai_date(task.starts_at), shanghai_date(task.ends_at) - timedelta(days=1)



def _visible(principal: Principal) -> ColumnElement[bool]:
    return exists(select(ProspectingTaskProject.task_id).join(
        Project, col(Project.id) == col(ProspectingTaskProject.project_id)).where(
        col(ProspectingTaskProject.task_id) == col(ProspectingTask.id),
        scopes.in_sites(principal)))


def project_ids(session: Session, task_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if task_ids:
        for row in session.exec(select(ProspectingTaskProject).where(
                col(ProspectingTaskProject.task_id).in_(task_ids))
                .order_by(col(ProspectingTaskProject.project_id))).all():
            found[row.task_id].append(row.project_id)
    return found


def _fields(task: ProspectingTask, projects: list[int], board: Board) -> dict[str, Any]:
    start, end = period_dates(task)
    return {**task.model_dump(), "metric_name": METRIC_NAMES[task.metric],
            "project_ids": projects, "start_date": start, "end_date": end,
            "assignee_count": len(board.rows), "total_count": board.total_count,
            "total_target": board.total_target, "rate": board.rate}


def outs(session: Session, tasks: Sequence[ProspectingTask]) -> list[TaskOut]:
    ids = [t.id or 0 for t in tasks]
    links, found = project_ids(session, ids), boards(session, tasks)
    return [TaskOut.model_validate(_fields(t, links.get(t.id or 0, []), found[t.id or 0]))
            for t in tasks]


def detail(session: Session, task: ProspectingTask) -> TaskDetailOut:
    board = boards(session, [task])[task.id or 0]
    projects = project_ids(session, [task.id or 0]).get(task.id or 0, [])
    return TaskDetailOut.model_validate({**_fields(task, projects, board),
                                         "assignees": board.assignees,
                                         "leaderboard": board.leaderboard})


def list_tasks(session: Session, *, principal: Principal, project_id: int | None,
               status: str | None, metric: str | None) -> list[ProspectingTask]:
    query = select(ProspectingTask).where(_visible(principal))
    if project_id is not None:
        query = query.where(exists(select(ProspectingTaskProject.task_id).where(
            col(ProspectingTaskProject.task_id) == col(ProspectingTask.id),
            ProspectingTaskProject.project_id == project_id)))
    if status is not None:
        query = query.where(ProspectingTask.status == status)
    if metric is not None:
        query = query.where(ProspectingTask.metric == metric)
    return list(session.exec(
        query.order_by(col(ProspectingTask.id).desc()).limit(TASKS_LISTED)).all())


def get(session: Session, *, principal: Principal, task_id: int) -> ProspectingTask:
    row = session.exec(select(ProspectingTask).where(
        ProspectingTask.id == task_id, _visible(principal))).first()
    if row is None:
        raise ProspectingTaskNotFound()
    return row



def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ProspectingTaskInvalid("结束日期不能早于开始日期", extra={"field": "end_date"})
    if (end - start).days + 1 > MAX_DAYS:
        raise ProspectingTaskInvalid(f"任务周期最长 {MAX_DAYS} 天", extra={"field": "end_date"})


def _check_campaign(session: Session, principal: Principal, campaign_id: int | None,
                    projects: Sequence[int]) -> None:
    if campaign_id is None:
        return
    campaign = campaigns.get(session, principal=principal, campaign_id=campaign_id)
    if campaign.status == "ended":
        raise ProspectingTaskInvalid("关联的渠道活动已结束", extra={"field": "campaign_id"})
    linked = campaigns.project_ids(session, [campaign_id]).get(campaign_id, [])
    if not set(linked) & set(projects):
        raise ProspectingTaskInvalid("关联的渠道活动与任务没有共同的项目",
                                     extra={"field": "campaign_id"})


def _store_assignees(session: Session, task_id: int, resolved: Sequence[Resolved]) -> None:
    for row in session.exec(select(ProspectingAssignee).where(
            ProspectingAssignee.task_id == task_id)).all():
        session.delete(row)
    session.flush()
    session.add_all(ProspectingAssignee(
        task_id=task_id, target=r.target,
        agency_id=r.id if r.kind == "agency" else None,
        broker_id=r.id if r.kind == "broker" else None) for r in resolved)
    session.flush()


def _assigned(session: Session, task_id: int) -> list[list[Any]]:
    """The assignees as the audit keeps them: [kind, id, target]."""
    return [["broker" if a.broker_id else "agency", a.broker_id or a.agency_id, a.target]
            for a in session.exec(select(ProspectingAssignee).where(
                ProspectingAssignee.task_id == task_id).order_by(
                col(ProspectingAssignee.id))).all()]


def create(session: Session, *, principal: Principal, data: TaskIn) -> TaskDetailOut:
    projects = scopes.projects_in_scope(session, principal, data.project_ids)
    _check_period(data.start_date, data.end_date)
    _check_campaign(session, principal, data.campaign_id, projects)
    resolved = resolve(session, mode=data.assign_mode, project_ids=projects,
                       assignees=data.assignees, teams=data.teams, target=data.target)
    task = ProspectingTask(
        title=data.title, description=data.description, metric=data.metric,
        assign_mode=data.assign_mode, teams=list(data.teams), target=data.target,
        campaign_id=data.campaign_id, starts_at=beijing_midnight(data.start_date),
        ends_at=beijing_midnight(data.end_date + timedelta(days=1)),
        created_by=principal.user_id)
    session.add(task)
    session.flush()
    assert task.id is not None
    session.add_all(ProspectingTaskProject(task_id=task.id, project_id=p) for p in projects)
    _store_assignees(session, task.id, resolved)
    audit_service.record(session, action="channel.task_create", principal=principal,
                         object_type="channel_prospecting_task", object_id=str(task.id),
                         detail={"title": task.title, "metric": task.metric,
                                 "project_ids": projects, "assign_mode": task.assign_mode,
                                 "assignees": _assigned(session, task.id)})
    return detail(session, task)


def _snapshot(session: Session, task: ProspectingTask) -> dict[str, Any]:
    start, end = period_dates(task)
    return {"title": task.title, "description": task.description, "metric": task.metric,
            "project_ids": project_ids(session, [task.id or 0]).get(task.id or 0, []),
            "campaign_id": task.campaign_id, "start_date": start.isoformat(),
            "end_date": end.isoformat(), "target": task.target,
            "assign_mode": task.assign_mode, "teams": list(task.teams),
            "assignees": _assigned(session, task.id or 0)}


def update(session: Session, *, principal: Principal, task_id: int,
           data: TaskUpdate) -> TaskDetailOut:
    task = get(session, principal=principal, task_id=task_id)
    session.refresh(task, with_for_update=True)  # two edits at once: one after the other
    before = _snapshot(session, task)
    told_before = prospecting_notices.recipients(session, task_id)
    was_published = task.status == "published"
    if not scopes.all_in_scope(session, principal, before["project_ids"]):
        raise ProspectingTaskOutsideScope()
    if task.status in ("closed", "cancelled"):
        raise ProspectingTaskLocked()
    if task.status == "published":
        asked = {"metric": data.metric, "start_date": data.start_date and data.start_date
                 .isoformat(), "project_ids": data.project_ids and sorted(set(data.project_ids))}
        for field in FROZEN_AFTER_PUBLISH:
            if asked[field] is not None and asked[field] != before[field]:
                raise ProspectingTaskInvalid("任务发布后不能修改考核指标、项目和开始日期",
                                             extra={"field": field})
    _apply(session, principal, task, data, before)
    now = utcnow()
    moved = data.status is not None and data.status != task.status
    if data.status is not None and moved:
        _move(session, task, data.status, now)
    task.updated_at = now
    session.flush()
    after = _snapshot(session, task)
    edited = sorted(k for k in after if after[k] != before[k])
    detail_: dict[str, Any] = {"title": task.title, "status": task.status, "changed": edited,
               "before": {k: before[k] for k in edited}, "after": {k: after[k] for k in edited}}
    target = str(task_id)
    if moved and task.status == "published":
        start, end = period_dates(task)
        detail_["told"] = prospecting_notices.published(
            session, task, f"{start.month}月{start.day}日至{end.month}月{end.day}日")
    elif moved and was_published:
        detail_["told"] = prospecting_notices.ended(session, task)
    elif was_published:
        detail_["told"] = prospecting_notices.changed(session, task, edited, told_before)
    if moved and task.status == "published":
        audit_service.record(session, action="channel.task_publish", principal=principal,
                             object_type="channel_prospecting_task", object_id=target,
                             detail=detail_)
    elif moved and task.status == "closed":
        audit_service.record(session, action="channel.task_close", principal=principal,
                             object_type="channel_prospecting_task", object_id=target,
                             detail=detail_)
    elif moved:
        audit_service.record(session, action="channel.task_cancel", principal=principal,
                             object_type="channel_prospecting_task", object_id=target,
                             detail=detail_)
    else:
        # An edit of a published task is what a broker's ranking may hinge on: the
        # audit keeps each changed field before and after.
        audit_service.record(session, action="channel.task_update", principal=principal,
                             object_type="channel_prospecting_task", object_id=target,
                             detail={**detail_, "published": task.status == "published"})
    return detail(session, task)


def _apply(session: Session, principal: Principal, task: ProspectingTask, data: TaskUpdate,
           before: dict[str, Any]) -> None:
    for field in ("title", "description", "metric", "target"):
        value = getattr(data, field)
        if value is not None:
            setattr(task, field, value)
    projects: list[int] = before["project_ids"]
    if data.project_ids is not None:
        projects = scopes.projects_in_scope(session, principal, data.project_ids)
        for link in session.exec(select(ProspectingTaskProject).where(
                ProspectingTaskProject.task_id == task.id)).all():
            session.delete(link)
        session.flush()
        session.add_all(ProspectingTaskProject(task_id=task.id or 0, project_id=p)
                        for p in projects)
    start, end = period_dates(task)
    start, end = data.start_date or start, data.end_date or end
    _check_period(start, end)
    task.starts_at, task.ends_at = beijing_midnight(start), beijing_midnight(
        end + timedelta(days=1))
    if "campaign_id" in data.model_fields_set:
        task.campaign_id = data.campaign_id
    _check_campaign(session, principal, task.campaign_id, projects)
    # The assignees are resolved again when the choice, the projects or the default
    # target change; otherwise a running task keeps the ones it had.
    choice = {"assign_mode", "assignees", "teams", "project_ids", "target"}
    if choice & data.model_fields_set:
        mode = data.assign_mode or task.assign_mode
        teams = data.teams if data.teams is not None else (
            task.teams if mode == "teams" else [])
        kept = data.assignees is None and mode == task.assign_mode
        if data.assignees is not None:
            chosen = data.assignees
        elif kept and mode in ("agencies", "brokers"):
            chosen = _kept_choice(session, task, before["target"])
        elif kept:  # teams / cooperating: only the targets set one by one carry over
            chosen = [a for a in _kept_choice(session, task, before["target"])
                      if a.target is not None]
        else:
            chosen = []
        resolved = resolve(session, mode=mode, project_ids=projects, assignees=chosen,
                           teams=teams, target=task.target, kept=kept)
        task.assign_mode, task.teams = mode, list(teams) if mode == "teams" else []
        _store_assignees(session, task.id or 0, resolved)


def _kept_choice(session: Session, task: ProspectingTask, old_default: int
                 ) -> list[AssigneeIn]:
    # A target set on one assignee stays; one that followed the default follows it.
    return [AssigneeIn(id=a.broker_id or a.agency_id or 0,
                       target=None if a.target == old_default else a.target)
            for a in session.exec(select(ProspectingAssignee).where(
                ProspectingAssignee.task_id == task.id).order_by(
                col(ProspectingAssignee.id))).all()]


def _move(session: Session, task: ProspectingTask, status: str, now: datetime) -> None:
    if status not in MOVES[task.status]:
        raise StatusChangeNotAllowed()
    if status == "published":
        if period_dates(task)[1] < shanghai_date(now):
            raise ProspectingTaskInvalid("任务已过结束日期，不能发布",
                                         extra={"field": "end_date"})
        if not session.exec(select(ProspectingAssignee.id).where(
                ProspectingAssignee.task_id == task.id)).first():
            raise ProspectingTaskInvalid("任务没有指派对象，不能发布",
                                         extra={"field": "assignees"})
        task.published_at = now
    else:
        task.closed_at = now
    task.status = status



