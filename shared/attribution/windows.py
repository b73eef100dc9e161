"""Window arithmetic: when a referral's, a visit's or a consultant's protection ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.attribution.rules import DurationWindow, RuleSet
from shared.timeutil import SHANGHAI


def referral_end(rules: RuleSet, referred_at: datetime) -> datetime:
    """End of the referral window (the visit must come by then, inclusive).

    定点 windows count Asia/Shanghai days. A referral made after that day's clock time
    (e.g. 23:59:30 with "until 23:59") gets the next day's: a window that is already
    over when it opens would refuse the referral without a reason anyone could see.
    One-stage protection is one window from the referral to the deal, so the visit
    must come inside it too.
    """
    window = rules.referral_protection
    if isinstance(window, DurationWindow):
        end = referred_at + window.length
    else:
        local_day = referred_at.astimezone(SHANGHAI).date() + timedelta(days=window.days)
        end = datetime.combine(local_day, window.until, tzinfo=SHANGHAI).astimezone(UTC)
        if end <= referred_at:
            end += timedelta(days=1)
    if rules.protection_stages == "one":
        end = min(end, referred_at + rules.visit_protection)
    return end


def deal_end(rules: RuleSet, referred_at: datetime, visited_at: datetime) -> datetime:
    """Two-stage: visit_protection from the confirmed visit; one-stage: from the referral."""
    start = visited_at if rules.protection_stages == "two" else referred_at
    return start + rules.visit_protection


def lapse_end(rules: RuleSet, last_contact: datetime) -> datetime | None:
    if rules.follow_up_lapse is None:
        return None
    return last_contact + rules.follow_up_lapse


def earliest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return min(present) if present else None
