"""Notifications (消息): what the broker's H5 lists under "my messages" — an appeal
decided, a referral voided after a risk review."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cloud.channel.appeal_models import Notification


def notify(session: Session, *, user_id: int, kind: str, title: str, body: str,
           data: dict[str, Any]) -> Notification:
    row = Notification(user_id=user_id, kind=kind, title=title, body=body, data=data)
    session.add(row)
    session.flush()
    return row


def mine(session: Session, user_id: int, *, limit: int,
         before_id: int | None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(col(Notification.id) < before_id)
    return list(session.exec(query.order_by(col(Notification.id).desc()).limit(limit)).all())
