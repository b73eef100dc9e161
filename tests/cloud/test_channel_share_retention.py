"""Share events (opens and views of brokers' share pages) older than the retention window
are deleted by the job channel.share_events_purge, in bounded batches; newer events,
shares and leads stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.channel import share_retention
from cloud.channel.lead_models import Share, ShareEvent
from cloud.jobs.celery_app import run_job
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud.channel_world import ChannelWorld
from tests.cloud.migration_drift import drift


def _events(db: Session, share: Share, ages_days: list[float]) -> None:
    now = utcnow()
    db.add_all(ShareEvent(share_id=share.id or 0, visitor_key=f"v{i}", kind="view",
                          page="overview", seconds=5, occurred_at=now - timedelta(days=age))
               for i, age in enumerate(ages_days))
    db.commit()


def _left(db: Session) -> list[str]:
    db.expire_all()
    return sorted(e.visitor_key for e in db.exec(select(ShareEvent)).all())


def test_events_past_the_window_are_purged_the_rest_kept(
        db: Session, cw: ChannelWorld, settings: CloudSettings, engine: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    share = Share(broker_id=cw.brokers["broker_a1"].id or 0, kind="project",
                  project_id=cw.project("site-a"), expires_at=utcnow() + timedelta(days=30))
    db.add(share)
    db.commit()
    # 180 days by default: one a day too old, one at 179 days, one today.
    _events(db, share, [181, 179, 0])
    run = run_job(jobs()["channel.share_events_purge"], settings, engine)
    assert (run["purged"], run["more"]) == (1, False)
    assert _left(db) == ["v1", "v2"]
    assert db.get(Share, share.id) is not None

    shorter = settings.model_copy(update={"share_event_retention_days": 7})
    _events(db, share, [8, 9, 10, 11, 12])
    monkeypatch.setattr(share_retention, "BATCH", 4)
    first = run_job(jobs()["channel.share_events_purge"], shorter, engine)
    assert (first["purged"], first["more"]) == (4, True)  # the 179-day one is old now too
    second = run_job(jobs()["channel.share_events_purge"], shorter, engine)
    assert (second["purged"], second["more"]) == (2, False)
    count = db.exec(select(func.count()).select_from(ShareEvent)).one()
    assert count == 1 and _left(db) == ["v2"]


def test_the_index_the_purge_reads_is_migrated(engine: Engine) -> None:
    assert drift(engine, {"channel_share_event", "channel_notification",
                          "channel_wechat_token"}) == []
