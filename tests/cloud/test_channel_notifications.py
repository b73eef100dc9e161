"""Notifications marked read (消息已读): the unread count the H5's badge shows, one or
all marked read, and nobody marks another's, on real PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.channel import notifications
from cloud.channel.appeal_models import Notification
from cloud.identity.models import User
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld

URL = "/api/v1/channel/notifications/mine"


def _notify(db: Session, username: str, title: str) -> int:
    user = db.exec(select(User).where(User.username == username)).one()
    row = notifications.notify(db, user_id=user.id or 0, kind="appeal", title=title,
                               body="正文", data={})
    db.commit()
    return row.id or 0


def test_unread_count_one_and_all_marked_read(api: TestClient, cw: ChannelWorld,
                                              db: Session) -> None:
    first, second, third = (_notify(db, "broker_b1", t) for t in ("一", "二", "三"))
    foreign = _notify(db, "broker_a1", "别人的")
    me = signed_in(api, "broker_b1")
    assert api.get(f"{URL}/unread", headers=me).json() == {"unread": 3, "marked": None}

    # Someone else's id is ignored, not revealed.
    one = api.post(f"{URL}/read", headers=me, json={"ids": [second, foreign]})
    assert one.status_code == 200, one.text
    assert one.json() == {"unread": 2, "marked": 1}
    listed = {n["id"]: n["read_at"] for n in api.get(URL, headers=me).json()}
    assert listed[second] is not None and listed[first] is None and listed[third] is None
    again = api.post(f"{URL}/read", headers=me, json={"ids": [second]}).json()
    assert again == {"unread": 2, "marked": 0}
    db.rollback()
    read_at = db.get(Notification, second, populate_existing=True)
    assert read_at is not None and read_at.read_at is not None

    assert api.post(f"{URL}/read", headers=me, json={"all": True}).json() == {
        "unread": 0, "marked": 2}
    other = signed_in(api, "broker_a1")
    assert api.get(f"{URL}/unread", headers=other).json()["unread"] == 1
    db.rollback()
    kept = db.get(Notification, foreign, populate_existing=True)
    assert kept is not None and kept.read_at is None


def test_a_read_request_names_ids_or_all(api: TestClient, cw: ChannelWorld) -> None:
    me = signed_in(api, "broker_b1")
    for body in ({}, {"all": True, "ids": [1]}, {"ids": [0]}, {"ids": list(range(1, 202))}):
        refused = api.post(f"{URL}/read", headers=me, json=body)
        assert refused.status_code == 422, body
    # A receptionist receives no messages (channel managers do: a task's shortfall).
    assert api.post(f"{URL}/read", headers=signed_in(api, "reception_a"),
                    json={"all": True}).status_code == 403
