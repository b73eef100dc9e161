"""The Celery application: every registered job as a task, and beat's schedule.

Redis is the broker (`ANCHANG_CLOUD_CELERY_BROKER_URL`, else `ANCHANG_CLOUD_REDIS_URL`);
no result backend is kept beyond a day. In demo mode tasks run eagerly, in the caller's
process, so `anchang demo` needs no worker, beat or Redis.
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.db import make_engine
from cloud.jobs.registry import Job, jobs
from cloud.settings import CloudSettings

log = structlog.get_logger()
TASK_PREFIX = "anchang."


class JobsNotConfigured(RuntimeError):
    """Production mode without a broker: scheduled duties would silently never run."""


def run_job(job: Job, settings: CloudSettings, engine: Engine) -> dict[str, Any]:
    """One job in one transaction: committed when it returns, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            summary = job.run(session, settings)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    log.info("job_done", job=job.name, **summary)
    return summary


def create_celery(settings: CloudSettings, engine: Engine | None = None) -> Celery:
    eager = settings.mode == "demo"
    broker = settings.celery_broker_url or settings.redis_url
    if broker is None and not eager:
        raise JobsNotConfigured(
            "set ANCHANG_CLOUD_CELERY_BROKER_URL (or ANCHANG_CLOUD_REDIS_URL) to run jobs")
    app = Celery("anchang", broker=broker or "memory://", backend=broker or "cache+memory://",
                 set_as_current=False)
    app.conf.update(
        task_always_eager=eager,
        task_eager_propagates=True,
        task_acks_late=True,  # a worker killed mid-job leaves it to run again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        timezone="Asia/Shanghai",
        enable_utc=True,
    )
    audit_service.configure(shards=settings.audit_chain_shards)
    bound_engine = engine or make_engine(settings.database_url)
    schedule = {}
    for job in jobs().values():
        app.task(name=TASK_PREFIX + job.name, shared=False)(
            _task_body(job, settings, bound_engine))
        schedule[job.name] = {"task": TASK_PREFIX + job.name,
                              "schedule": job.every.total_seconds()}
    app.conf.beat_schedule = schedule
    return app


def _task_body(job: Job, settings: CloudSettings, engine: Engine) -> Any:
    def body() -> dict[str, Any]:
        return run_job(job, settings, engine)

    body.__name__ = job.name.replace(".", "_")
    body.__doc__ = job.description
    return body
