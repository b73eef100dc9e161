"""Notifications (消息): what the broker's H5 lists under "my messages" — an appeal
decided, a referral voided after a risk review — and which of them the user has read.

Marking read is the reader's own bookkeeping, not a decision about anyone: it is not
audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import Session, col, select

from cloud.channel.appeal_models import Notification
from shared.timeutil import utcnow


def notify(session: Session, *, user_id: int, kind: str, title: str, body: str,
           data: dict[str, Any]) -> Notification:
    row = Notification(user_id=user_id, kind=kind, title=title, body=body, data=data,
                       push_state="pending")
    session.add(row)
    session.flush()
    return row


def mine(session: Session, user_id: int, *, limit: int,
         before_id: int | None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(col(Notification.id) < before_id)
    return list(session.exec(query.order_by(col(Notification.id).desc()).limit(limit)).all())


def unread(session: Session, user_id: int) -> int:
    count: int = session.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, col(Notification.read_at).is_(None))).one()
    return count


def mark_read(session: Session, user_id: int, ids: Sequence[int] | None) -> int:
    """The caller's unread notifications among `ids` (None: all of them) marked read; how
    many. Someone else's ids are ignored, never revealed; one read before keeps the first
    time it was read."""
    query = update(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
    if ids is not None:
        query = query.where(col(Notification.id).in_(ids))
    marked = cast(CursorResult[Any], session.execute(query.values(read_at=utcnow())))
    return marked.rowcount
