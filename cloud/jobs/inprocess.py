"""Beat in-process, for the demo: every registered job runs eagerly at start and then at
its interval, in a thread (jobs are synchronous database work), with no worker, beat or
Redis. A failing job is logged and tried again at its next turn."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.engine import Engine

from cloud.jobs.celery_app import TASK_PREFIX, create_celery
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared.aio import wait_event

log = structlog.get_logger()


async def run_schedule(settings: CloudSettings, engine: Engine, stop: asyncio.Event) -> None:
    app = create_celery(settings, engine)
    loop = asyncio.get_running_loop()
    due = dict.fromkeys(jobs(), loop.time())
    while not stop.is_set():
        for name, job in jobs().items():
            if loop.time() < due[name]:
                continue
            try:
                await asyncio.to_thread(app.tasks[TASK_PREFIX + name].delay)
            except Exception:
                log.exception("job_failed", job=name)
            due[name] = loop.time() + job.every.total_seconds()
        await wait_event(stop, max(min(due.values()) - loop.time(), 1))
