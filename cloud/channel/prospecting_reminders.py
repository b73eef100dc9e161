"""Reminders of prospecting tasks (拓客任务到期提醒), the job channel.task_reminders:
`task_reminder_hours` before a published task ends, its assignees short of their target;
once it has ended, its creator when someone fell short.

Each task is marked in the job's transaction with its messages (reminded_at,
end_reported_at; migration 0042), its rows taken FOR UPDATE SKIP LOCKED: a second run,
concurrent or later, finds nothing to send — nobody is told twice. The messages are the
outbox rows of cloud.channel.notifications, so WeChat hears of them only after the
commit. A task published already inside its reminder window is marked without a
reminder (its publication message said when it ends); one that ended more than
END_REPORT_WITHIN ago (before the job existed, or while it was down a long time) is
marked without a report, so nobody receives a backlog.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from cloud.channel import prospecting_notices
from cloud.channel.prospecting_board import boards
from cloud.channel.prospecting_models import ProspectingTask
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, utcnow

END_REPORT_WITHIN = timedelta(days=1)
BATCH = 100


def remind(session: Session, settings: CloudSettings) -> dict[str, Any]:
    return remind_at(session, settings, utcnow())


def remind_at(session: Session, settings: CloudSettings, now: datetime) -> dict[str, Any]:
    before = timedelta(hours=settings.task_reminder_hours)
    ending = _take(session, col(ProspectingTask.status) == "published",
                   col(ProspectingTask.reminded_at).is_(None),
                   col(ProspectingTask.ends_at) > now,
                   col(ProspectingTask.ends_at) <= now + before)
    reminded = 0
    fresh = [t for t in ending
             if t.published_at is None or as_utc(t.published_at) < as_utc(t.ends_at) - before]
    ending_boards = boards(session, fresh)
    for task in fresh:
        reminded += prospecting_notices.ending_soon(session, task, ending_boards[task.id or 0])
    for task in ending:
        task.reminded_at = now
        session.add(task)

    ended = _take(session, col(ProspectingTask.status).in_(("published", "closed")),
                  col(ProspectingTask.end_reported_at).is_(None),
                  col(ProspectingTask.ends_at) <= now)
    recent = [t for t in ended if as_utc(t.ends_at) > now - END_REPORT_WITHIN]
    ended_boards = boards(session, recent)
    reported = sum(prospecting_notices.fell_short(session, t, ended_boards[t.id or 0])
                   for t in recent)
    for task in ended:
        task.end_reported_at = now
        session.add(task)
    session.flush()
    return {"tasks": len(ending) + len(ended), "reminded": reminded, "reported": reported}


def _take(session: Session, *where: Any) -> list[ProspectingTask]:
    return list(session.exec(
        select(ProspectingTask).where(*where).order_by(col(ProspectingTask.id))
        .limit(BATCH).with_for_update(skip_locked=True)).all())
