"""Time rules: store UTC, show Asia/Shanghai; every day-counting rule names its zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

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


# Every datetime an API answers with goes through this: a naive value (SQLite hands those
# back) is UTC by our storage rule and leaves as "…Z", so no client ever reads it as local.
UTC_RULE = AfterValidator(as_utc)
UtcDateTime = Annotated[datetime, UTC_RULE]
