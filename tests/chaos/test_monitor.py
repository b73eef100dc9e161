"""Stalls read from a monitor timeline: no progress for long while the other end is ahead."""

from __future__ import annotations

from tests.chaos.monitor import Sample, stalls


def timeline(*points: tuple[float, int, int]) -> list[Sample]:
    """(at, edge head, cloud applied); the down-feed always caught up."""
    return [Sample(at, head, applied, applied, 5, 5) for at, head, applied in points]


def test_progress_or_nothing_waiting_is_no_stall() -> None:
    assert stalls(timeline((0, 10, 10), (30, 10, 10), (31, 20, 12), (40, 30, 25),
                           (55, 40, 39), (56, 40, 40), (90, 40, 40))) == []


def test_no_progress_with_work_waiting_is_a_stall_until_it_moves() -> None:
    assert stalls(timeline((0, 10, 10), (5, 20, 12), (30, 40, 12), (31, 41, 30))) == [
        "up-stream stalled at 12 from t=5.0s to t=31.0s"]


def test_a_stall_to_the_end_of_the_run_says_so() -> None:
    samples = [Sample(at, 50, 50, 50, 494, 900) for at in (0.0, 10.0, 25.0)]
    assert stalls(samples) == ["down-feed stalled at 494 from t=0.0s to t=25.0s (still at the "
                               "end)"]


def test_a_short_pause_is_not_a_stall() -> None:
    assert stalls(timeline((0, 20, 12), (10, 20, 12), (11, 20, 20))) == []
