"""The registry through which each domain declares its scheduled jobs.

A job is a plain function of a database session and the settings, run in one transaction
(committed by the runner, rolled back on error), answering a small summary that the
worker logs and the tests read. The schedule is an interval: beat runs once per
deployment, so an interval is enough and keeps the demo's in-process loop trivial.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.settings import CloudSettings

# The module that imports every domain's tasks (so their jobs are registered).
DOMAINS_MODULE = "cloud.jobs.domains"

JobRun = Callable[[Session, CloudSettings], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str  # "<domain>.<what>", also the Celery task name under "anchang."
    run: JobRun
    every: timedelta
    description: str


_REGISTRY: dict[str, Job] = {}


def register(job: Job) -> Job:
    if job.name in _REGISTRY:
        raise ValueError(f"job {job.name!r} is registered twice")
    _REGISTRY[job.name] = job
    return job


def jobs() -> dict[str, Job]:
    """Every registered job (importing the domains on first use)."""
    importlib.import_module(DOMAINS_MODULE)
    return _REGISTRY
