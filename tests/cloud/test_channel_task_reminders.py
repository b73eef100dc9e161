"""Prospecting tasks' reminders (channel.task_reminders): before the end, the assignees
short of their target; at the end, the creator when someone fell short; each once, and
never a backlog."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.channel import prospecting_reminders
from cloud.channel.appeal_models import Notification
from cloud.channel.prospecting_models import ProspectingTask
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, shanghai_date, utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld
from tests.cloud.test_channel_prospecting import URL, _create, _referral

HOUR = timedelta(hours=1)
TODAY = shanghai_date(utcnow())
LAST = TODAY + timedelta(days=9)


def _period(db: Session, task_id: int) -> tuple[datetime, datetime]:
    task = db.get(ProspectingTask, task_id)
    assert task is not None
    return as_utc(task.starts_at), as_utc(task.ends_at)


def _published(api: TestClient, cw: ChannelWorld, db: Session, **overrides: Any) -> int:
    """A task of ten Beijing days from today (target 2 each unless told), published as if
    on its first day."""
    body = {"target": 2, "start_date": TODAY.isoformat(), "end_date": LAST.isoformat(),
            **overrides}
    created = _create(api, cw, **body)
    assert created.status_code == 201, created.text
    task_id: int = created.json()["id"]
    answer = api.patch(f"{URL}/{task_id}", headers=signed_in(api, "cm_a"),
                       json={"status": "published"})
    assert answer.status_code == 200, answer.text
    task = db.get(ProspectingTask, task_id)
    assert task is not None
    task.published_at = task.starts_at
    db.add(task)
    db.commit()
    return task_id


def _messages(db: Session, cw: ChannelWorld, task_id: int) -> list[tuple[str, str, str]]:
    db.expire_all()
    users = {b.user_id: n for n, b in cw.brokers.items()} | {
        u: n for n, u in cw.sales.items() if isinstance(u, int)}
    rows = db.exec(select(Notification).where(Notification.kind == "task")
                   .order_by(col(Notification.id))).all()
    return [(users.get(n.user_id, str(n.user_id)), n.title, n.body) for n in rows
            if n.data.get("task_id") == task_id and "新拓客任务" not in n.title]


def _run(db: Session, settings: CloudSettings, at: Any) -> dict[str, Any]:
    found = prospecting_reminders.remind_at(db, settings, at)
    db.commit()
    return found


def test_short_assignees_are_reminded_once_and_the_creator_told_once_at_the_end(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    assert jobs()["channel.task_reminders"].every == timedelta(minutes=10)
    a1, a2 = cw.brokers["broker_a1"], cw.brokers["broker_a2"]
    task_id = _published(api, cw, db)
    opens, closes = _period(db, task_id)
    for at in (opens + HOUR, opens + 2 * HOUR):
        _referral(db, a1, cw.project("site-a"), at)  # broker_a1 reached the target of 2
    _referral(db, a2, cw.project("site-a"), opens + HOUR)

    # 25 hours before the end: outside the 24-hour reminder window.
    assert _run(db, settings, closes - 25 * HOUR)["reminded"] == 0
    assert _messages(db, cw, task_id) == []
    assert _run(db, settings, closes - 23 * HOUR)["reminded"] == 1
    [(who, title, body)] = _messages(db, cw, task_id)
    assert (who, title) == ("broker_a2", "拓客任务即将结束：十一月拓客冲刺")
    assert f"{LAST.isoformat()} 结束" in body and "1/2，还差 1" in body
    # Again, and again later: nobody is told twice.
    assert _run(db, settings, closes - 22 * HOUR)["reminded"] == 0
    assert _run(db, settings, closes - HOUR)["reminded"] == 0
    assert len(_messages(db, cw, task_id)) == 1

    assert _run(db, settings, closes + timedelta(minutes=5))["reported"] == 1
    assert _run(db, settings, closes + timedelta(minutes=15))["reported"] == 0
    last = _messages(db, cw, task_id)[-1]
    assert last[1] == "拓客任务未完成：十一月拓客冲刺"
    assert "1 个指派对象未达成目标" in last[2] and "/2" in last[2] and "总完成 3/4" in last[2]
    # The creator reads it among their messages (WeChat too once they follow the 公众号).
    mine = api.get("/api/v1/channel/notifications/mine", headers=signed_in(api, "cm_a"))
    assert mine.status_code == 200, mine.text
    assert [n["title"] for n in mine.json()] == ["拓客任务未完成：十一月拓客冲刺"]


def test_an_agency_assignee_reminds_its_brokers_and_a_complete_task_reports_nothing(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    agency_a = cw.agencies["A"]
    task_id = _published(api, cw, db, assign_mode="agencies",
                         assignees=[{"id": agency_a.id}], target=1)
    opens, closes = _period(db, task_id)
    _run(db, settings, closes - 2 * HOUR)
    names = sorted(n for n, b in cw.brokers.items()
                   if b.agency_id == agency_a.id and b.status == "active")
    assert sorted(w for w, _, _ in _messages(db, cw, task_id)) == names
    _referral(db, cw.brokers["broker_a1"], cw.project("site-a"), opens + HOUR)
    assert _run(db, settings, closes + HOUR)["reported"] == 0  # target 1 reached


def test_no_reminder_inside_the_window_at_publication_and_no_backlog(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    # Published 10 hours before its end: its publication said when it ends.
    late = _published(api, cw, db)
    _, closes = _period(db, late)
    task = db.get(ProspectingTask, late)
    assert task is not None
    task.published_at = closes - 10 * HOUR
    db.add(task)
    db.commit()
    assert _run(db, settings, closes - 5 * HOUR) == {"tasks": 1, "reminded": 0, "reported": 0}
    db.refresh(task)
    assert task.reminded_at is not None
    # First seen two days after its end (the job was down): marked, nobody told.
    assert _run(db, settings, closes + 48 * HOUR) == {"tasks": 1, "reminded": 0, "reported": 0}
    assert _messages(db, cw, late) == []
    assert jobs()["channel.task_reminders"].run(db, settings)["tasks"] == 0


def test_two_runs_at_once_remind_once(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings,
        engine: Engine) -> None:
    task_id = _published(api, cw, db)
    _, closes = _period(db, task_id)
    start = threading.Barrier(4)
    got: list[int] = []

    def run() -> None:
        with Session(engine) as own:
            start.wait()
            got.append(prospecting_reminders.remind_at(own, settings, closes - HOUR)["reminded"])
            own.commit()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # broker_a1 and broker_a2 are both short of 2: told once each, by one of the runs.
    assert sorted(got) == [0, 0, 0, 2]
    assert sorted(w for w, _, _ in _messages(db, cw, task_id)) == ["broker_a1", "broker_a2"]
