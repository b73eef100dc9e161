"""渠道业绩: the funnel referrals → attributions → subscriptions per channel group with
its trend by Beijing day, week or month, and the rankings of agencies, brokers and
consultants — each a fixed query of analytics.run."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from cloud.channel.analytics import Filters, Sort, Spec, run
from cloud.channel.analytics_labels import labeller
from cloud.identity.deps import Principal

FUNNEL = ("referrals", "valid", "visited", "attributed", "subscribed", "conversion_rate")
GROUPS = ("channel_group", "agency", "team", "channel_kind")
GRANULARITIES = ("day", "week", "month")
SUBJECTS = ("agency", "broker", "consultant")
RANK_MEASURES = ("referrals", "valid", "visited", "attributed", "conversion_rate")
RANK_BY = ("referrals", "valid", "visited", "conversion_rate")

# There is no deals module yet (issue #22): the cloud feeds the engine no deal milestone,
# so no referral can be at the subscription stage. Until deals are recorded the funnel
# answers `subscribed: null` with `needs: ["deals"]` rather than a zero that looks real.
DEALS_RECORDED = False


def needs() -> list[str]:
    return [] if DEALS_RECORDED else ["deals"]


def _stages(row: dict[str, Any]) -> dict[str, Any]:
    stages = {m: row[m] for m in FUNNEL}
    if not DEALS_RECORDED:
        stages["subscribed"] = None
    return stages


def performance(session: Session, principal: Principal, *, filters: Filters, group: str,
                granularity: str) -> dict[str, Any]:
    base = Spec((), FUNNEL, filters, limit=None)
    total = run(session, principal, base).rows[0]
    groups = run(session, principal, replace(base, dimensions=(group,),
                                             sort=(Sort("referrals", desc=True),)))
    trend = run(session, principal, replace(base, dimensions=(granularity,)))
    label = labeller(session, group, (r[group] for r in groups.rows))
    counted = {r[granularity]: r for r in trend.rows}
    empty = {m: 0 for m in FUNNEL} | {"conversion_rate": None}
    return {
        "date_from": filters.date_from, "date_to": filters.date_to, "group": group,
        "granularity": granularity, "needs": needs(),
        "total": _stages(total),
        "items": [{"key": r[group], "label": label(r[group]), **_stages(r)}
                  for r in groups.rows],
        "trend": [{"bucket": b, **_stages(counted.get(b, empty))}
                  for b in buckets(filters.date_from, filters.date_to, granularity)],
    }


def buckets(start: date, end: date, unit: str) -> list[str]:
    """Every bucket label from `start` to `end`, as the database writes them."""
    if unit == "month":
        found, year, month = [], start.year, start.month
        while (year, month) <= (end.year, end.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found
    step = 7 if unit == "week" else 1
    day = start - timedelta(days=start.weekday()) if unit == "week" else start
    found = []
    while day <= end:
        found.append(day.isoformat())
        day += timedelta(days=step)
    return found


def rankings(session: Session, principal: Principal, *, filters: Filters, subject: str,
             by: str, limit: int) -> dict[str, Any]:
    """The top `limit` of `subject` by `by`, highest first. Equal values share a rank
    (1, 2, 2, 4) and are listed by ascending id, so the order never depends on the
    database's whim; referrals without the subject (no agency, not visited) are left out."""
    table = run(session, principal, Spec(
        (subject,), RANK_MEASURES, filters, sort=(Sort(by, desc=True),), limit=limit,
        require_keys=True))
    label = labeller(session, subject, (r[subject] for r in table.rows))
    items: list[dict[str, Any]] = []
    for index, row in enumerate(table.rows):
        tied = items and items[-1][by] == row[by]
        rank = items[-1]["rank"] if tied else index + 1
        items.append({"rank": rank, "key": row[subject], "label": label(row[subject]),
                      **{m: row[m] for m in RANK_MEASURES}})
    return {"subject": subject, "by": by, "date_from": filters.date_from,
            "date_to": filters.date_to, "items": items}
