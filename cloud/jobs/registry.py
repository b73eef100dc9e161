"""The registry through which each domain declares its scheduled jobs.

A job is a plain function of a database session and the settings, run in one transaction
(committed by the runner, rolled back on error), answering a small summary that the
worker logs and the tests read. The schedule is an interval: beat runs once per
deployment, so an interval is enough and keeps the demo's in-process loop trivial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.registry import Registry
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


_REGISTRY: Registry[Job] = Registry("job", DOMAINS_MODULE)
register = _REGISTRY.register


def jobs() -> dict[str, Job]:
    """Every registered job (importing the domains on first use)."""
    return _REGISTRY.all()
