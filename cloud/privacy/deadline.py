"""The answer deadline: 15 working days (the kiosk notice and PIPL art. 50 practice).

Working days are Monday to Friday in Asia/Shanghai. Statutory holidays and the weekend
days worked in their place (调休) are not modelled, so in holiday weeks the deadline shown
is earlier than the legal one, never later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from shared.timeutil import SHANGHAI, as_utc

ANSWER_WORKING_DAYS = 15


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (the day of receipt does not count)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def answer_due(received_at: datetime) -> datetime:
    """The end of the last working day to answer, as a UTC instant."""
    received_day = as_utc(received_at).astimezone(SHANGHAI).date()
    last_day = add_working_days(received_day, ANSWER_WORKING_DAYS)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return (end - timedelta(microseconds=1)).astimezone(UTC)
