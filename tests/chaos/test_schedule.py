"""The fault schedule: replayable by its seed, drawn only from the kinds asked for."""

from __future__ import annotations

import pytest

from tests.chaos.schedule import (
    ALL_KINDS,
    KNOWN_BROKEN,
    PASSING_KINDS,
    SEED_ENV,
    Schedule,
    chaos_seed,
)


def test_the_same_seed_gives_the_same_schedule() -> None:
    first = Schedule.generate(42, faults=60, kinds=ALL_KINDS)
    assert Schedule.generate(42, faults=60, kinds=ALL_KINDS) == first
    assert first.describe() == Schedule.generate(42, faults=60, kinds=ALL_KINDS).describe()
    assert Schedule.generate(43, faults=60, kinds=ALL_KINDS).describe() != first.describe()


def test_faults_follow_each_other_with_a_gap() -> None:
    schedule = Schedule.generate(7, faults=30, kinds=ALL_KINDS, gap=(1.0, 3.0))
    assert len(schedule.faults) == 30
    for before, after in zip(schedule.faults, schedule.faults[1:], strict=False):
        assert after.at >= before.at + before.duration + 0.9  # rounding to 0.1 s


def test_the_short_schedule_draws_only_what_passes_today() -> None:
    assert KNOWN_BROKEN <= ALL_KINDS and not PASSING_KINDS & KNOWN_BROKEN
    schedule = Schedule.generate(3, faults=200, kinds=PASSING_KINDS, longest=5.0)
    assert set(schedule.kinds()) == PASSING_KINDS
    assert max(f.duration for f in schedule.faults) <= 5.0


def test_a_pinned_seed_is_the_runs_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEED_ENV, "1234")
    assert chaos_seed() == 1234
    monkeypatch.delenv(SEED_ENV)
    assert chaos_seed() != chaos_seed()
