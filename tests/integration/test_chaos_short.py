"""Chaos as a habit, short: a seeded random fault schedule (about ten faults drawn from the
kinds that pass today) against the real edge agent, Mosquitto, the cloud consumer and
PostgreSQL, while the kiosk registers visits and follow-ups; then every invariant of
/shared/domain/sync-faults.md. A failure prints the seed, the schedule and the history;
`ANCHANG_CHAOS_SEED=<seed> pytest tests/integration/test_chaos_short.py` replays it."""

from __future__ import annotations

import pytest

from tests.chaos.nemesis import run_chaos
from tests.chaos.schedule import PASSING_KINDS, Schedule
from tests.chaos.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

FAULTS = 10
RATE = 10.0  # kiosk requests per second


def test_a_short_random_fault_schedule_keeps_every_invariant(chaos_stack: Stack) -> None:
    schedule = Schedule.generate(chaos_stack.seed, faults=FAULTS, kinds=PASSING_KINDS,
                                 gap=(0.5, 1.5), longest=5.0)  # well within 90 s
    result = run_chaos(chaos_stack, schedule, rate=RATE)
    assert result.report.ok, result.report.describe()
    assert result.report.measures["events"] >= 200
