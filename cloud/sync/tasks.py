"""Sync's scheduled duties: down-feed items past `down_feed_retention_days` are pruned
(as `anchang sync prune-feed` does by hand)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings
from cloud.sync import feed


def prune_down_feed(session: Session, settings: CloudSettings) -> dict[str, Any]:
    removed = feed.prune(session, retention_days=settings.down_feed_retention_days)
    return {"removed": removed}


register(Job("sync.prune_down_feed", prune_down_feed, every=timedelta(days=1),
             description="清理超过保留期的下行变更"))
