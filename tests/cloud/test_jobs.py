"""Scheduled duties: the registry and beat schedule, and each job run eagerly (as in the
demo) against the real PostgreSQL. tests/integration/test_jobs_worker.py runs one through
a real Celery worker and Redis."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.identity.models import AuthSession, User
from cloud.jobs import registry
from cloud.jobs.celery_app import TASK_PREFIX, JobsNotConfigured, create_celery
from cloud.settings import CloudSettings
from cloud.sync import feed, provision
from cloud.sync.models import DownFeed, SiteLink
from shared.timeutil import utcnow
from tests.cloud import make_user
from tests.conftest import make_settings


def demo(settings: CloudSettings, tmp_path: Path) -> CloudSettings:
    return make_settings(settings.database_url, mode="demo",
                         audit_head_dir=str(tmp_path / "heads"))


def test_every_domain_job_is_a_task_with_a_beat_entry(
    settings: CloudSettings, engine: Engine
) -> None:
    app = create_celery(make_settings(settings.database_url, mode="demo"), engine)
    names = set(registry.jobs())
    assert {"identity.disable_inactive", "audit.export_head", "sync.prune_down_feed"} <= names
    assert {TASK_PREFIX + n for n in names} <= set(app.tasks)
    schedule = app.conf.beat_schedule
    assert set(schedule) == names
    assert schedule["audit.export_head"]["schedule"] == timedelta(days=1).total_seconds()
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(registry.jobs()["audit.export_head"])


def test_production_without_a_broker_refuses_to_build_the_app(
    settings: CloudSettings, engine: Engine
) -> None:
    with pytest.raises(JobsNotConfigured):
        create_celery(make_settings(settings.database_url), engine)


def test_accounts_unused_for_90_days_are_disabled_and_their_edge_tokens_revoked(
    db: Session, settings: CloudSettings, engine: Engine, tmp_path: Path
) -> None:
    provision.provision_site(db, settings=settings, site_id="job-a", name="A", projects=["一期"])
    db.commit()
    stale = make_user(db, "stale.consultant", roles=["consultant"], site_ids=["job-a"])
    recent = make_user(db, "recent.consultant", roles=["consultant"], site_ids=["job-a"])
    db.exec(update(User).where(col(User.id) == stale.id).values(
        last_login_at=utcnow() - timedelta(days=91)))
    db.exec(update(User).where(col(User.id) == recent.id).values(
        last_login_at=utcnow() - timedelta(days=89)))
    db.commit()

    app = create_celery(demo(settings, tmp_path), engine)
    summary = app.tasks[TASK_PREFIX + "identity.disable_inactive"].delay().get()

    assert summary == {"disabled": 1}
    db.rollback()
    active = dict(db.exec(select(User.username, User.is_active)).all())
    assert active == {"stale.consultant": False, "recent.consultant": True}
    assert db.exec(select(AuditLog).where(AuditLog.action == "user.disable_inactive")).one() \
        .object_id == str(stale.id)
    [revoked] = db.exec(select(DownFeed).where(DownFeed.kind == "revocation")).all()
    assert (revoked.key, revoked.data["reason"]) == (f"user:{stale.id}", "inactive")
    assert db.exec(select(AuthSession)).all() == []  # no session was open to end


def test_the_audit_head_is_written_outside_the_database(
    db: Session, settings: CloudSettings, engine: Engine, tmp_path: Path
) -> None:
    make_user(db, "audited.user", roles=["consultant"])  # writes an audit row
    app = create_celery(demo(settings, tmp_path), engine)

    summary = app.tasks[TASK_PREFIX + "audit.export_head"].delay().get()

    [written] = (tmp_path / "heads").glob("audit-head-*.json")
    heads = json.loads(written.read_text())["heads"]
    db.rollback()
    newest = {r.shard: r for r in db.exec(select(AuditLog).order_by(col(AuditLog.id))).all()}
    assert {h["shard"]: (h["id"], h["hash"]) for h in heads} == {
        shard: (row.id, row.hash) for shard, row in newest.items()}
    assert summary["head_id"] == max(row.id or 0 for row in newest.values())
    assert not list((tmp_path / "heads").glob("*.partial"))


def test_the_down_feed_retention_job_prunes_old_items(
    db: Session, settings: CloudSettings, engine: Engine, tmp_path: Path
) -> None:
    provision.provision_site(db, settings=settings, site_id="job-b", name="B", projects=["一期"])
    feed.append(db, "job-b", "project", "1", {"id": 1, "name": "旧", "city": ""})
    db.commit()
    db.exec(update(DownFeed).values(
        created_at=utcnow() - timedelta(days=settings.down_feed_retention_days + 1)))
    db.commit()
    feed.append(db, "job-b", "project", "1", {"id": 1, "name": "新", "city": ""})
    db.commit()

    app = create_celery(demo(settings, tmp_path), engine)
    assert app.tasks[TASK_PREFIX + "sync.prune_down_feed"].delay().get() == {"removed": 1}

    db.rollback()
    assert [r.data["name"] for r in db.exec(select(DownFeed)).all()] == ["新"]
    link = db.get(SiteLink, "job-b")
    assert link is not None and link.feed_floor > 0
