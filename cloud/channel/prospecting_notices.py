"""Messages to a prospecting task's assignees (我的消息, and WeChat through wechat_push):
when it is published, when a published task changes, when it is closed or cancelled.

An assigned broker is told; for an assigned agency, each of its active brokers (they see
the task under 我的任务 and their referrals count for it). One message per person and
event, however many rows name them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from cloud.channel import notifications
from cloud.channel.models import Broker
from cloud.channel.prospecting_models import ProspectingAssignee, ProspectingTask
from cloud.channel.prospecting_schemas import METRIC_NAMES

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


def _tell(session: Session, task: ProspectingTask, title: str, body: str,
          also: Sequence[int] = ()) -> int:
    users = sorted(set(recipients(session, task.id or 0)) | set(also))
    for user_id in users:
        notifications.notify(session, user_id=user_id, kind="task", title=title[:100],
                             body=body[:500], data={"task_id": task.id})
    return len(users)
