"""A prospecting task's assignees are told (我的消息) when it is published, changed while
published, closed or cancelled; and in the teams and cooperating modes each agency may
carry its own target."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.channel.appeal_models import Notification
from cloud.channel.models import Agency
from shared.timeutil import shanghai_date, utcnow
from tests.cloud import audit_rows, problem, signed_in
from tests.cloud.channel_world import ChannelWorld
from tests.cloud.test_channel_prospecting import URL, _create


def _period() -> dict[str, str]:
    today = shanghai_date(utcnow())
    return {"start_date": today.isoformat(),
            "end_date": (today + timedelta(days=9)).isoformat()}


def told(db: Session, cw: ChannelWorld) -> list[tuple[str, str]]:
    """(username, title) of every task message, in order."""
    db.expire_all()
    users = {b.user_id: name for name, b in cw.brokers.items()}
    return [(users.get(n.user_id, str(n.user_id)), n.title) for n in db.exec(
        select(Notification).where(Notification.kind == "task")
        .order_by(col(Notification.id))).all()]


def test_assignees_are_told_when_a_task_is_published_changed_and_closed(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    cm = signed_in(api, "cm_a")
    task = _create(api, cw, title="冲刺", assign_mode="agencies",
                   assignees=[{"id": cw.agencies["A"].id}], **_period())
    assert task.status_code == 201, task.text
    url = f"{URL}/{task.json()['id']}"
    api.patch(url, headers=cm, json={"title": "十二月冲刺"})
    assert told(db, cw) == []  # a draft tells nobody

    assert api.patch(url, headers=cm, json={"status": "published"}).status_code == 200
    agency_a = sorted(n for n, b in cw.brokers.items() if b.agency_id == cw.agencies["A"].id)
    assert sorted(told(db, cw)) == [(n, "新拓客任务：十二月冲刺") for n in agency_a]
    assert "broker_b1" not in {n for n, _ in told(db, cw)}
    first = db.exec(select(Notification).where(Notification.kind == "task")).first()
    assert first is not None and first.data == {"task_id": task.json()["id"]}
    assert "目标 4" in first.body and first.push_state == "pending"  # WeChat too
    assert audit_rows(db, "channel.task_publish")[0].detail["told"] == len(agency_a)

    # A new target is told to every broker it counts for.
    start = len(told(db, cw))
    moved = api.patch(url, headers=cm, json={"target": 6})
    assert moved.status_code == 200
    assert sorted(told(db, cw)[start:]) == [(n, "拓客任务有变更：十二月冲刺") for n in agency_a]
    changed = db.exec(select(Notification).order_by(col(Notification.id).desc())).first()
    assert changed is not None and "目标" in changed.body

    # Moved to agency B: A's brokers learn of the change, B's brokers too.
    start = len(told(db, cw))
    api.patch(url, headers=cm, json={"assignees": [{"id": cw.agencies["B"].id}]})
    assert {n for n, _ in told(db, cw)[start:]} == {*agency_a, "broker_b1"}
    assert "指派对象" in (db.exec(select(Notification).order_by(
        col(Notification.id).desc())).first() or Notification()).body

    start = len(told(db, cw))
    assert api.patch(url, headers=cm, json={"status": "closed"}).status_code == 200
    assert told(db, cw)[start:] == [("broker_b1", "拓客任务已结束：十二月冲刺")]


def test_a_draft_cancelled_tells_nobody_a_published_one_does(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    cm = signed_in(api, "cm_a")
    draft = _create(api, cw, **_period()).json()
    api.patch(f"{URL}/{draft['id']}", headers=cm, json={"status": "cancelled"})
    assert told(db, cw) == []
    live = _create(api, cw, title="取消的任务", **_period()).json()
    api.patch(f"{URL}/{live['id']}", headers=cm, json={"status": "published"})
    api.patch(f"{URL}/{live['id']}", headers=cm, json={"status": "cancelled"})
    assert told(db, cw)[-2:] == [("broker_a1", "拓客任务已取消：取消的任务"),
                                 ("broker_a2", "拓客任务已取消：取消的任务")]


def _targets(answer: dict[str, Any]) -> list[tuple[str, int]]:
    return [(r["name"], r["target"]) for r in answer["assignees"]]


def test_each_agency_of_a_team_or_of_the_cooperating_ones_may_carry_its_own_target(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    a, b = cw.agencies["A"].id, cw.agencies["B"].id
    cooperating = _create(api, cw, assign_mode="cooperating", target=4,
                          assignees=[{"id": b, "target": 9}], **_period())
    assert cooperating.status_code == 201, cooperating.text
    assert _targets(cooperating.json()) == [("渠道A", 4), ("渠道B", 9)]
    no_target = _create(api, cw, assign_mode="cooperating", assignees=[{"id": b}])
    assert problem(no_target)["detail"] == "按渠道团队或合作渠道指派时，单独设置目标须填写目标数"

    for agency_id in (a, b):
        row = db.get(Agency, agency_id)
        assert row is not None
        row.team = "华东" if agency_id == a else "华南"
        db.add(row)
    db.commit()
    outside = _create(api, cw, assign_mode="teams", teams=["华东"],
                      assignees=[{"id": b, "target": 9}])
    assert problem(outside)["code"] == "prospecting_task_invalid"
    assert problem(outside)["field"] == "assignees"
    team = _create(api, cw, assign_mode="teams", teams=["华东", "华南"], target=4,
                   assignees=[{"id": a, "target": 7}], **_period()).json()
    assert _targets(team) == [("渠道A", 7), ("渠道B", 4)]
    # An edit of the default keeps the target set one by one; the others follow it.
    url, cm = f"{URL}/{team['id']}", signed_in(api, "cm_a")
    assert _targets(api.patch(url, headers=cm, json={"target": 5}).json()) == [
        ("渠道A", 7), ("渠道B", 5)]
    # A team dropped from the choice takes its agency's own target with it.
    assert _targets(api.patch(url, headers=cm, json={"teams": ["华南"]}).json()) == [
        ("渠道B", 5)]
