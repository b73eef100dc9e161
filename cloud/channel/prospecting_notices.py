"""Messages to a prospecting task's assignees (我的消息, and WeChat through wechat_push):
when it is published, when a published task changes, when it is closed or cancelled, and
— by the job channel.task_reminders — before it ends to those short of their target; at
its end, to its creator when someone fell short.

An assigned broker is told; for an assigned agency, each of its active brokers (they see
the task under 我的任务 and their referrals count for it). One message per person and
event, however many rows name them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from cloud.channel import notifications
from cloud.channel.models import Broker
from cloud.channel.prospecting_board import Board
from cloud.channel.prospecting_models import ProspectingAssignee, ProspectingTask
from cloud.channel.prospecting_schemas import METRIC_NAMES
from shared.timeutil import shanghai_date

# The creator's end-of-task message names this many who fell short, then a count.
SHORTFALL_NAMES = 5

# The fields of a change worth telling an assignee, in the words of the H5.
CHANGE_NAMES = {"title": "标题", "description": "说明", "end_date": "结束日期",
                "target": "目标", "assignees": "指派对象", "campaign_id": "所属活动"}


def recipients(session: Session, task_id: int) -> list[int]:
    """The user ids of the task's assignees, as above, in a stable order."""
    rows = session.exec(select(ProspectingAssignee).where(
        ProspectingAssignee.task_id == task_id)).all()
    broker_ids = [r.broker_id for r in rows if r.broker_id]
    agency_ids = [r.agency_id for r in rows if r.agency_id]
    query = select(Broker.user_id).where(Broker.status == "active")
    found = session.exec(query.where(
        col(Broker.id).in_(broker_ids) | col(Broker.agency_id).in_(agency_ids))).all()
    return sorted(set(found))


def published(session: Session, task: ProspectingTask, period: str) -> int:
    return _tell(session, task, f"新拓客任务：{task.title}",
                 f"{period}，考核{METRIC_NAMES[task.metric]}，目标 {task.target}。")


def changed(session: Session, task: ProspectingTask, fields: Sequence[str],
            before: Sequence[int]) -> int:
    """A published task edited: told to whoever it names now and whoever it named before."""
    words = "、".join(CHANGE_NAMES[f] for f in fields if f in CHANGE_NAMES)
    if not words:
        return 0
    return _tell(session, task, f"拓客任务有变更：{task.title}",
                 f"任务的{words}已调整，请在我的任务中查看。", also=before)


def ended(session: Session, task: ProspectingTask) -> int:
    if task.status == "closed":
        return _tell(session, task, f"拓客任务已结束：{task.title}",
                     "任务已结束，可在我的任务中查看完成情况与排名。")
    return _tell(session, task, f"拓客任务已取消：{task.title}", "该任务已取消，不再统计。")


def ending_soon(session: Session, task: ProspectingTask, board: Board) -> int:
    """Each person of an assignee still short of its target: their count and what is left.
    One message per person (a broker of two assigned agencies hears of the first)."""
    last_day = (shanghai_date(task.ends_at) - timedelta(days=1)).isoformat()
    told: set[int] = set()
    for row, progress in zip(board.rows, board.assignees, strict=True):
        if progress.count >= progress.target:
            continue
        query = select(Broker.user_id).where(Broker.status == "active")
        query = query.where(Broker.id == row.broker_id) if row.broker_id is not None \
            else query.where(Broker.agency_id == row.agency_id)
        for user_id in sorted(set(session.exec(query).all()) - told):
            notifications.notify(
                session, user_id=user_id, kind="task",
                title=f"拓客任务即将结束：{task.title}"[:100],
                body=(f"任务将于 {last_day} 结束，{METRIC_NAMES[task.metric]}已完成 "
                      f"{progress.count}/{progress.target}，还差 "
                      f"{progress.target - progress.count}。")[:500],
                data={"task_id": task.id})
            told.add(user_id)
    return len(told)


def fell_short(session: Session, task: ProspectingTask, board: Board) -> int:
    """The task's creator, when an assignee ended short of its target (1: told)."""
    short = [p for p in board.assignees if p.count < p.target]
    if not short:
        return 0
    names = "、".join(f"{p.name} {p.count}/{p.target}" for p in short[:SHORTFALL_NAMES])
    more = f"等 {len(short)} 个" if len(short) > SHORTFALL_NAMES else f"{len(short)} 个"
    notifications.notify(
        session, user_id=task.created_by, kind="task",
        title=f"拓客任务未完成：{task.title}"[:100],
        body=(f"任务已结束，{more}指派对象未达成目标：{names}。"
              f"总完成 {board.total_count}/{board.total_target}。")[:500],
        data={"task_id": task.id, "short": len(short)})
    return 1


def _tell(session: Session, task: ProspectingTask, title: str, body: str,
          also: Sequence[int] = ()) -> int:
    users = sorted(set(recipients(session, task.id or 0)) | set(also))
    for user_id in users:
        notifications.notify(session, user_id=user_id, kind="task", title=title[:100],
                             body=body[:500], data={"task_id": task.id})
    return len(users)
