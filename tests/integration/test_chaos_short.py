"""Chaos as a habit, short: a seeded random fault schedule (about ten faults drawn from the
kinds that pass today) against the real edge agent, Mosquitto, the cloud consumer and
PostgreSQL, while the kiosk registers visits and follow-ups; then every invariant of
/shared/domain/sync-faults.md. A failure prints the seed, the schedule and the history;
`ANCHANG_CHAOS_SEED=<seed> pytest tests/integration/test_chaos_short.py` replays it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from cloud.settings import CloudSettings
from tests.chaos.nemesis import run_chaos
from tests.chaos.schedule import PASSING_KINDS, Schedule, chaos_seed
from tests.chaos.stack import Stack, make_consultant
from tests.integration.conftest import ProvisionedSite
from tests.integration.mosquitto import Mosquitto

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

FAULTS = 10
RATE = 10.0  # kiosk requests per second


@pytest.fixture
def stack(tmp_path: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
          sites: tuple[ProvisionedSite, ...]) -> Iterator[Stack]:
    made = Stack(tmp_path, engine=engine, settings=settings, broker=broker, site=sites[0],
                 seed=chaos_seed())
    yield made
    made.close()


def test_a_short_random_fault_schedule_keeps_every_invariant(stack: Stack) -> None:
    schedule = Schedule.generate(stack.seed, faults=FAULTS, kinds=PASSING_KINDS,
                                 gap=(0.5, 1.5))
    consultant_id = make_consultant(stack.engine, stack.site.site_id)
    stack.start(consultant_id)
    result = run_chaos(stack, schedule, consultant_id=consultant_id, rate=RATE)
    print(result.report.describe(history=False))
    assert result.report.ok, result.report.describe()
    assert result.report.measures["events"] >= 200
