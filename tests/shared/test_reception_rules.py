"""Reception settings: office hours are Beijing wall-clock times, the whole day until set."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.reception import ReceptionRules


def test_by_default_every_hour_of_the_day_counts() -> None:
    rules = ReceptionRules()
    midnight = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # 00:00 in Beijing
    assert all(rules.in_working_hours(midnight + timedelta(minutes=m))
               for m in range(0, 24 * 60, 7))


def test_hours_with_an_offset_are_refused_not_compared() -> None:
    with pytest.raises(ValidationError, match="without an offset"):
        ReceptionRules(work_start=time(9, tzinfo=timezone(timedelta(hours=8))),
                       work_end=time(18))
    with pytest.raises(ValidationError, match="after work_start"):
        ReceptionRules(work_start=time(18), work_end=time(9))
