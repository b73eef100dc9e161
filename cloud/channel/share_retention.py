"""Share events (opens and views of the public share page) deleted once older than
ANCHANG_CLOUD_SHARE_EVENT_RETENTION_DAYS. They name no one (a keyed hash of a random
browser id), but how a visitor read a page is still behaviour worth not keeping for
ever. Shares and leads stay; a share's counts and the lead timeline's share items
shrink with the events (docs/channel.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlmodel import Session, col

from cloud.channel.lead_models import ShareEvent
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

BATCH = 10_000  # per run: a short transaction; the hourly job catches up on a backlog


def purge_share_events(session: Session, settings: CloudSettings) -> dict[str, Any]:
    cutoff = utcnow() - timedelta(days=settings.share_event_retention_days)
    old = (select(col(ShareEvent.id)).where(col(ShareEvent.occurred_at) < cutoff)
           .order_by(col(ShareEvent.id)).limit(BATCH).scalar_subquery())
    result = cast(CursorResult[Any], session.execute(
        delete(ShareEvent).where(col(ShareEvent.id).in_(old))))
    return {"purged": result.rowcount, "more": result.rowcount == BATCH,
            "before": cutoff.isoformat()}
