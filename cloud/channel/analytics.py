"""多维查询 over referrals and the engine's decisions on them: a grouped count on up to
three whitelisted dimensions (analytics_fields.py), in the caller's scope, filtered by
Beijing days and by keys, sorted and paged.

The query has two levels: the inner one computes, per referral in scope, the keys of the
asked dimensions and the measures' 0/1 flags; the outer one groups by those columns. So
every grouped expression is a plain column (no expression matching between SELECT and
GROUP BY, which PostgreSQL would insist on), and the same statement runs on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import false, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from cloud.catalog.models import Project
from cloud.channel import scopes
from cloud.channel.analytics_fields import DIMENSIONS, MEASURES, aggregate, customer_key, flags
from cloud.channel.errors import (
    AnalyticsDimensionUnknown,
    AnalyticsMeasureUnknown,
    AnalyticsQueryInvalid,
    AnalyticsRangeInvalid,
    AnalyticsSortInvalid,
)
from cloud.channel.models import Referral
from cloud.identity.deps import Principal
from shared.timeutil import SHANGHAI, utcnow

MAX_DIMENSIONS = 3
MAX_RANGE_DAYS = 731
DEFAULT_RANGE_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """Beijing days [date_from, date_to] of the referral's submission, and key lists
    (empty: no filter on that key)."""

    date_from: date
    date_to: date
    project_ids: tuple[int, ...] = ()
    agency_ids: tuple[int, ...] = ()
    broker_ids: tuple[int, ...] = ()
    consultant_ids: tuple[int, ...] = ()
    teams: tuple[str, ...] = ()
    channel_kinds: tuple[str, ...] = ()
    customer_groups: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    reason_codes: tuple[str, ...] = ()

    def as_detail(self) -> dict[str, Any]:
        """The filters as an audit detail: only those given."""
        found: dict[str, Any] = {"date_from": self.date_from.isoformat(),
                                 "date_to": self.date_to.isoformat()}
        for name in ("project_ids", "agency_ids", "broker_ids", "consultant_ids", "teams",
                     "channel_kinds", "customer_groups", "states", "reason_codes"):
            if getattr(self, name):
                found[name] = list(getattr(self, name))
        return found


@dataclass(frozen=True)
class Sort:
    by: str
    desc: bool = False


@dataclass(frozen=True)
class Spec:
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    filters: Filters
    sort: tuple[Sort, ...] = ()
    offset: int = 0
    limit: int | None = 50
    # Leave out groups whose key is missing (rankings: referrals without an agency…).
    require_keys: bool = False


@dataclass
class Table:
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


def default_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The last 30 Beijing days up to today where not given; checked for order and span."""
    today = utcnow().astimezone(SHANGHAI).date()
    end = date_to or today
    start = date_from or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end or (end - start).days >= MAX_RANGE_DAYS:
        raise AnalyticsRangeInvalid()
    return start, end


def validate(spec: Spec) -> None:
    """A client's query names only whitelisted fields, each once (422 with its code)."""
    for name in spec.dimensions:
        if name not in DIMENSIONS:
            raise AnalyticsDimensionUnknown(f"不支持的分析维度：{name[:40]}",
                                            extra={"allowed": list(DIMENSIONS)})
    for name in spec.measures:
        if name not in MEASURES:
            raise AnalyticsMeasureUnknown(f"不支持的统计指标：{name[:40]}",
                                          extra={"allowed": list(MEASURES)})
    if len(spec.dimensions) > MAX_DIMENSIONS:
        raise AnalyticsQueryInvalid(f"最多按 {MAX_DIMENSIONS} 个维度分组")
    if not spec.measures:
        raise AnalyticsQueryInvalid("请至少选择一个统计指标")
    if len(set(spec.dimensions)) != len(spec.dimensions) \
            or len(set(spec.measures)) != len(spec.measures):
        raise AnalyticsQueryInvalid("维度或指标不能重复选择")
    chosen = set(spec.dimensions) | set(spec.measures)
    for sort in spec.sort:
        if sort.by not in chosen:
            raise AnalyticsSortInvalid(f"排序字段须是已选的维度或指标：{sort.by[:40]}")


def scope(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The referrals counted for `principal`: channel staff their sites' projects (HQ
    all), an agency admin their agency's. Unlike the referral list, a broker's own
    referrals are not a scope here: brokers hold no analytics permission."""
    clauses: list[ColumnElement[bool]] = []
    if principal.roles & scopes.PROJECT_SCOPED_ROLES:
        if principal.site_ids is None:
            return true()
        projects = select(col(Project.id)).where(col(Project.site_id).in_(principal.site_ids))
        clauses.append(col(Referral.project_id).in_(projects))
    agency_id = scopes.admin_agency(session, principal)
    if agency_id is not None:
        clauses.append(col(Referral.agency_id) == agency_id)
    return or_(*clauses) if clauses else false()


def beijing_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def _where(f: Filters, dialect: str) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [
        col(Referral.created_at) >= beijing_start(f.date_from),
        col(Referral.created_at) < beijing_start(f.date_to + timedelta(days=1)),
    ]
    by_column: tuple[tuple[Any, Sequence[object]], ...] = (
        (Referral.project_id, f.project_ids), (Referral.agency_id, f.agency_ids),
        (Referral.broker_id, f.broker_ids), (Referral.team, f.teams),
        (Referral.customer_group, f.customer_groups), (Referral.state, f.states),
        (Referral.reason_code, f.reason_codes))
    clauses += [col(column).in_(values) for column, values in by_column if values]
    if f.channel_kinds:
        clauses.append(DIMENSIONS["channel_kind"].key(dialect).in_(f.channel_kinds))
    if f.consultant_ids:
        clauses.append(DIMENSIONS["consultant"].key(dialect).in_(f.consultant_ids))
    return clauses


def run(session: Session, principal: Principal, spec: Spec) -> Table:
    """The grouped counts of `spec` (validated by the caller when it came from a client).
    Rows carry each dimension's key under its name and each measure under its name;
    ties of the requested order are broken by the dimension keys, ascending."""
    dialect = session.get_bind().dialect.name
    columns: list[Any] = [col(Referral.id).label("id")]
    columns += [DIMENSIONS[d].key(dialect).label(f"d_{d}") for d in spec.dimensions]
    columns += [flag.label(name) for name, flag in flags().items()]
    if "distinct_customers" in spec.measures:
        columns.append(customer_key().label("customer_key"))
    inner = (select(*columns)
             .where(scope(session, principal), *_where(spec.filters, dialect))
             .subquery("r"))
    keys = {d: inner.c[f"d_{d}"] for d in spec.dimensions}
    values = {m: aggregate(m, inner).label(f"m_{m}") for m in spec.measures}
    stmt = select(*keys.values(), *values.values())
    if keys:
        stmt = stmt.group_by(*keys.values())
    if spec.require_keys:
        stmt = stmt.where(*(k.is_not(None) for k in keys.values()))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order: list[Any] = []
    for sort in spec.sort:
        target = keys.get(sort.by, values.get(sort.by))
        assert target is not None  # validate() or our own callers
        order.append((target.desc() if sort.desc else target.asc()).nulls_last())
    order += [k.asc().nulls_last() for name, k in keys.items()]
    stmt = stmt.order_by(*order).offset(spec.offset)
    if spec.limit is not None:
        stmt = stmt.limit(spec.limit)
    table = Table(spec.dimensions, spec.measures, total=int(total))
    for found in session.execute(stmt).all():
        row: dict[str, Any] = {d: found[i] for i, d in enumerate(spec.dimensions)}
        for j, m in enumerate(spec.measures, start=len(spec.dimensions)):
            row[m] = _measure_value(m, found[j])
        table.rows.append(row)
    return table


def _measure_value(name: str, value: Any) -> Any:
    if name == "conversion_rate":
        return None if value is None else round(float(value), 4)
    return int(value or 0)
