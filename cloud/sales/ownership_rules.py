"""A project's ownership numbers and the deadlines they give (pure functions).

Every number is a per-project setting with the default of domain/reception-and-sales.md;
days are Asia/Shanghai calendar days: a follow-up due "within 7 days" of a contact on
the 1st may be made until the end of the 8th, Beijing time, and the customer lapses at
00:00 Beijing time on the 9th — whatever the hour of the contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from cloud.sales.ownership_models import LAPSE_TO_POOL, OwnershipSetting
from shared.timeutil import SHANGHAI, as_utc, shanghai_date


@dataclass(frozen=True)
class OwnershipRules:
    protection_days: int = 30
    follow_up_days: int = 7
    warn_days: int = 2
    lapse_action: str = LAPSE_TO_POOL
    reclaim_cooldown_days: int | None = None

    @classmethod
    def of(cls, row: OwnershipSetting) -> OwnershipRules:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


DEFAULT_RULES = OwnershipRules()


def rules_for(session: Session, project_ids: Iterable[int]) -> dict[int, OwnershipRules]:
    """Each project's rules in one query (the defaults where none were saved)."""
    wanted = set(project_ids)
    found = {row.project_id: OwnershipRules.of(row) for row in session.exec(
        select(OwnershipSetting).where(col(OwnershipSetting.project_id).in_(wanted)))}
    return {pid: found.get(pid, DEFAULT_RULES) for pid in wanted}


def day_start(day: date) -> datetime:
    """00:00 Beijing time of `day`, as an aware UTC datetime."""
    return as_utc(datetime.combine(day, time(0), tzinfo=SHANGHAI))


def follow_up_deadline(since: datetime, days: int) -> datetime:
    """When a customer last contacted at `since` becomes overdue: the start of the Beijing
    day after the `days`-th day."""
    return day_start(shanghai_date(since) + timedelta(days=days + 1))


def protection_end(since: datetime, days: int) -> datetime:
    """Protection runs `days` days from the assignment or the last return visit."""
    return as_utc(since) + timedelta(days=days)


@dataclass(frozen=True)
class Deadline:
    at: datetime  # the customer lapses at this instant
    reason: str  # follow_up_overdue | protection_ended
    warn_from: datetime


def deadline(*, last_effective_at: datetime | None, owned_since: datetime | None,
             protection_until: datetime, rules: OwnershipRules) -> Deadline:
    """The next lapse of an owned customer: the follow-up clock runs from the later of the
    last effective contact and the assignment; protection ends at `protection_until`."""
    starts = [as_utc(t) for t in (last_effective_at, owned_since) if t is not None]
    follow = follow_up_deadline(max(starts), rules.follow_up_days) if starts else None
    protect = as_utc(protection_until)
    if follow is not None and follow <= protect:
        at, reason = follow, "follow_up_overdue"
    else:
        at, reason = protect, "protection_ended"
    return Deadline(at, reason, at - timedelta(days=rules.warn_days))
