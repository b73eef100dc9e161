"""A scheduled job through the real thing: a Celery worker process started as operators
start it (`celery -A cloud.jobs.worker worker`), Redis as the broker, PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.identity.models import User
from cloud.jobs.celery_app import TASK_PREFIX, create_celery
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import make_user
from tests.conftest import make_settings
from tests.services import require

pytestmark = pytest.mark.integration

# A database of its own on the shared Redis, and a queue of its own per run: another
# checkout's worker on this machine must not take our task.
BROKER = "redis://127.0.0.1:6379/13"


def _env(settings: CloudSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANCHANG_CLOUD_")}
    for name, value in settings.model_dump().items():
        if value is None or isinstance(value, list):
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"ANCHANG_CLOUD_{name.upper()}"] = str(value)
    return env


@pytest.fixture
def worker(settings: CloudSettings, tmp_path: Path) -> Iterator[tuple[CloudSettings, str]]:
    require("Redis", "127.0.0.1", 6379)
    configured = make_settings(settings.database_url, celery_broker_url=BROKER,
                               audit_head_dir=str(tmp_path / "heads"))
    queue = f"anchang-test-{uuid.uuid4().hex[:8]}"
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cloud.jobs.worker", "worker", "--pool=solo",
         "-Q", queue, "--without-mingle", "--without-gossip", "--loglevel=INFO"],
        env=_env(configured), stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        yield configured, queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_worker_disables_an_account_unused_for_90_days(
    db: Session, worker: tuple[CloudSettings, str], tmp_path: Path
) -> None:
    settings, queue = worker
    stale = make_user(db, "worker.stale", roles=["consultant"])
    db.exec(update(User).where(col(User.id) == stale.id).values(
        last_login_at=utcnow() - timedelta(days=120)))
    db.commit()
    app = create_celery(settings)

    result = app.tasks[TASK_PREFIX + "identity.disable_inactive"].apply_async(queue=queue)
    try:
        summary = result.get(timeout=90)
    except Exception:
        print((tmp_path / "worker.log").read_text())
        raise

    assert summary == {"disabled": 1}
    db.rollback()
    assert db.exec(select(User.is_active).where(User.id == stale.id)).one() is False
    assert "identity.disable_inactive" in (tmp_path / "worker.log").read_text()
