"""The broker's prospecting tasks (我的任务, the H5): the published and closed tasks that
name them or their agency, with their progress and the leaderboard. Other brokers' names
are masked (张**); agencies are businesses and keep their names."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from cloud.catalog.models import Project
from cloud.channel import portal
from cloud.channel.errors import ProspectingTaskNotFound
from cloud.channel.models import Broker
from cloud.channel.prospecting import period_dates
from cloud.channel.prospecting_board import Board, boards, rate
from cloud.channel.prospecting_models import (
    ProspectingAssignee,
    ProspectingTask,
    ProspectingTaskProject,
)
from cloud.channel.prospecting_progress import broker_tallies
from cloud.channel.prospecting_schemas import (
    METRIC_NAMES,
    BrokerTaskDetailOut,
    BrokerTaskOut,
    LeaderRow,
)
from cloud.identity.deps import Principal
from shared.names import mask_name

SHOWN_STATUSES = ("published", "closed")
TASKS_SHOWN = 100


def _mine(broker: Broker) -> SelectOfScalar[int]:
    clauses: list[ColumnElement[bool]] = [col(ProspectingAssignee.broker_id) == broker.id]
    if broker.agency_id is not None:
        clauses.append(col(ProspectingAssignee.agency_id) == broker.agency_id)
    return select(ProspectingAssignee.task_id).where(or_(*clauses))


def _tasks(session: Session, broker: Broker, task_id: int | None = None
           ) -> list[ProspectingTask]:
    query = select(ProspectingTask).where(
        col(ProspectingTask.status).in_(SHOWN_STATUSES),
        col(ProspectingTask.id).in_(_mine(broker)))
    if task_id is not None:
        query = query.where(ProspectingTask.id == task_id)
    # Running tasks first, then the latest.
    return list(session.exec(query.order_by(
        col(ProspectingTask.status).desc(), col(ProspectingTask.ends_at).desc(),
        col(ProspectingTask.id).desc()).limit(TASKS_SHOWN)).all())


def _project_names(session: Session, task_ids: Sequence[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    if task_ids:
        for task_id, name in session.exec(
                select(ProspectingTaskProject.task_id, Project.name)
                .join(Project, col(Project.id) == col(ProspectingTaskProject.project_id))
                .where(col(ProspectingTaskProject.task_id).in_(task_ids))
                .order_by(col(Project.id))).all():
            names[task_id].append(name)
    return names


def _is_mine(row: LeaderRow, broker: Broker) -> bool:
    if row.kind == "broker":
        return row.id == broker.id
    return row.id == broker.agency_id


def _shown(board: Board, broker: Broker) -> list[LeaderRow]:
    shown = []
    for row in board.leaderboard:
        mine = _is_mine(row, broker)
        name = row.name if mine or row.kind == "agency" else mask_name(row.name) or "**"
        shown.append(row.model_copy(update={"name": name, "mine": mine}))
    return shown


def _out(task: ProspectingTask, board: Board, broker: Broker, my_count: int,
         projects: list[str]) -> dict[str, object]:
    rows = _shown(board, broker)
    own = next(r for r in rows if r.mine)
    start, end = period_dates(task)
    return {"id": task.id, "title": task.title, "description": task.description,
            "metric": task.metric, "metric_name": METRIC_NAMES[task.metric],
            "project_names": projects, "start_date": start, "end_date": end,
            "status": task.status, "level": own.kind, "target": own.target,
            "count": own.count, "rate": rate(own.count, own.target), "rank": own.rank,
            "ranked": len(rows), "my_count": my_count, "leaderboard": rows}


def _answers(session: Session, broker: Broker, tasks: list[ProspectingTask]
             ) -> list[dict[str, object]]:
    found = boards(session, tasks)
    ids = [t.id or 0 for t in tasks]
    names = _project_names(session, ids)
    # A broker named on a task and in an agency named on it too: their own row counts.
    own = broker_tallies(session, tasks, broker.id or 0) if tasks else {}
    return [_out(t, found[t.id or 0], broker, own[t.id or 0].count if t.id in own else 0,
                 names.get(t.id or 0, [])) for t in tasks]


def my_tasks(session: Session, *, principal: Principal) -> list[BrokerTaskOut]:
    broker = portal.broker(session, principal)
    return [BrokerTaskOut.model_validate(a) for a in _answers(session, broker,
                                                              _tasks(session, broker))]


def my_task(session: Session, *, principal: Principal, task_id: int) -> BrokerTaskDetailOut:
    broker = portal.broker(session, principal)
    tasks = _tasks(session, broker, task_id)
    if not tasks:
        raise ProspectingTaskNotFound()
    return BrokerTaskDetailOut.model_validate(_answers(session, broker, tasks)[0])
