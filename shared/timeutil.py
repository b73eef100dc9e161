"""Time rules: store UTC, show Asia/Shanghai; every day-counting rule names its zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes read back from SQLite are UTC by our storage rule."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def shanghai_date(value: datetime) -> date:
    return as_utc(value).astimezone(SHANGHAI).date()


def iso(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
