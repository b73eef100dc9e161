"""The whitelist of 多维查询 (and of 渠道业绩, which is built on it): every dimension and
measure a client may name, each a SQLAlchemy expression over one referral row.

Client input only ever picks names from these dictionaries; no name, filter value or
sort key is ever pasted into SQL text. The few literals below (time zone, formats) are
constants of this module.

What the counts mean (docs/channel.md, 渠道业绩与多维查询):
- valid (有效报备): the referral stood when judged — pending, confirmed or expired;
  refused (无效) is `invalid`, so valid + refused = referrals;
- visited (到访): the engine recorded the customer's visit on this referral (it reached
  the visit stage), whatever happened after (deal overdue, follow-up lapse);
- confirmed (确客): the referral is the owner's now, at any stage;
- attributed (判客有效): confirmed at the visit or deal stage — the channel owns the
  visited customer (an override to confirmed does not say whether they visited);
- subscribed (认购): the deal milestone inside protection (`deal_in_protection`);
- conversion rate (转化率): attributed ÷ referrals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, String, and_, case, cast, func, literal, literal_column, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from cloud.channel.models import Referral
from cloud.sales.models import Customer, Visit
from shared.attribution import ReasonCode
from shared.dbtypes import table_of

VISIT_STAGE = (ReasonCode.VISIT_CONFIRMED.value, ReasonCode.DEAL_IN_PROTECTION.value,
               ReasonCode.DEAL_OVERDUE.value, ReasonCode.FOLLOW_UP_LAPSED.value)
OWNER_AT_VISIT = (ReasonCode.VISIT_CONFIRMED.value, ReasonCode.DEAL_IN_PROTECTION.value)
SUBSCRIBED = ReasonCode.DEAL_IN_PROTECTION.value
INDIVIDUAL_GROUP = "individual"

def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


# -- dimensions: a key per referral ------------------------------------------------------

def _receiving_consultant() -> ColumnElement[int]:
    """置业顾问 who received the referred customer: the consultant of the guided visit
    that scanned this referral's code, else of the customer's first visit at the project
    at or after the referral (full numbers only: a masked one names nobody surely)."""
    scanned = table_of(Visit).alias("scanned")
    later = table_of(Visit).alias("later")
    customer = table_of(Customer).alias("referred")
    by_scan = (select(scanned.c.consultant_id)
               .where(scanned.c.referral_id == col(Referral.id))
               .order_by(scanned.c.occurred_at, scanned.c.id).limit(1).scalar_subquery())
    by_phone = (select(later.c.consultant_id)
                .join(customer, customer.c.id == later.c.customer_id)
                .where(customer.c.project_id == col(Referral.project_id),
                       customer.c.phone_bidx == col(Referral.phone_bidx),
                       later.c.occurred_at >= col(Referral.created_at))
                .order_by(later.c.occurred_at, later.c.id).limit(1).scalar_subquery())
    return func.coalesce(by_scan, by_phone)


def _channel_group() -> ColumnElement[str]:
    """One group per referral: its team when its agency was in one, else its agency,
    else 全民营销 (an individual referrer)."""
    return case(
        (col(Referral.team).is_not(None), literal("team:") + col(Referral.team)),
        (col(Referral.agency_id).is_not(None),
         literal("agency:") + cast(col(Referral.agency_id), String)),
        else_=literal(INDIVIDUAL_GROUP))


def _channel_kind() -> ColumnElement[str]:
    return case((col(Referral.agency_id).is_(None), literal(INDIVIDUAL_GROUP)),
                else_=literal("agency"))


def beijing_bucket(dialect: str, unit: str) -> ColumnElement[str]:
    """The referral's Beijing day, week (its Monday) or month as text: 2026-11-02,
    2026-11-02, 2026-11. PostgreSQL converts with the zone database; SQLite (the demo)
    adds eight hours — Asia/Shanghai has kept UTC+8 without daylight saving since 1991."""
    at = col(Referral.created_at)
    if dialect == "postgresql":
        local = func.timezone(literal_column("'Asia/Shanghai'"), at)
        if unit == "week":
            local = func.date_trunc(literal_column("'week'"), local)
        text = "'YYYY-MM'" if unit == "month" else "'YYYY-MM-DD'"
        return func.to_char(local, literal_column(text))
    if dialect == "sqlite":
        shift: ColumnElement[Any] = literal_column("'+8 hours'")
        if unit == "month":
            return func.strftime(literal_column("'%Y-%m'"), at, shift)
        if unit == "week":
            return func.date(at, shift, literal_column("'-6 days'"),
                             literal_column("'weekday 1'"))
        return func.date(at, shift)
    raise NotImplementedError(f"no Beijing bucketing for {dialect}")


@dataclass(frozen=True)
class Dimension:
    name: str
    title: str
    # The key of one referral; dialect-dependent for the date buckets.
    key: Callable[[str], ColumnElement[Any]]


def _column(attr: Any) -> Callable[[str], ColumnElement[Any]]:
    column: Any = col(attr)
    return lambda _dialect: column


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("project", "项目", _column(Referral.project_id)),
    Dimension("channel_group", "渠道分组", lambda _d: _channel_group()),
    Dimension("channel_kind", "渠道类别", lambda _d: _channel_kind()),
    Dimension("agency", "渠道公司", _column(Referral.agency_id)),
    Dimension("team", "渠道团队", _column(Referral.team)),
    Dimension("broker", "经纪人", _column(Referral.broker_id)),
    Dimension("consultant", "置业顾问", lambda _d: _receiving_consultant()),
    Dimension("customer_group", "客户类型", _column(Referral.customer_group)),
    Dimension("state", "报备状态", _column(Referral.state)),
    Dimension("reason_code", "原因", _column(Referral.reason_code)),
    Dimension("day", "日（北京时间）", lambda d: beijing_bucket(d, "day")),
    Dimension("week", "周（北京时间，周一起）", lambda d: beijing_bucket(d, "week")),
    Dimension("month", "月（北京时间）", lambda d: beijing_bucket(d, "month")),
)}


# -- measures: per-referral flags in the inner query, aggregated outside -----------------

def flags() -> dict[str, ColumnElement[int]]:
    """The per-referral 0/1 columns the measures sum."""
    state, reason = col(Referral.state), col(Referral.reason_code)
    return {
        "f_valid": _flag(state != "invalid"),
        "f_refused": _flag(state == "invalid"),
        "f_confirmed": _flag(state == "confirmed"),
        "f_visited": _flag(reason.in_(VISIT_STAGE)),
        "f_attributed": _flag(and_(state == "confirmed", reason.in_(OWNER_AT_VISIT))),
        "f_subscribed": _flag(reason == SUBSCRIBED),
    }


def customer_key() -> ColumnElement[str]:
    """One customer of a project: the full number's blind index; a masked number counts
    once per mask (its 3+4 or first-seven key: the digits it shows)."""
    person = func.coalesce(col(Referral.phone_bidx), col(Referral.phone34_bidx),
                           col(Referral.phone7_bidx), literal("referral:")
                           + cast(col(Referral.id), String))
    return cast(col(Referral.project_id), String) + literal(":") + person


@dataclass(frozen=True)
class Measure:
    name: str
    title: str
    ratio: bool = False


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("referrals", "报备数"),
    Measure("valid", "有效报备"),
    Measure("refused", "无效报备"),
    Measure("visited", "到访"),
    Measure("confirmed", "确客"),
    Measure("attributed", "判客有效"),
    Measure("distinct_customers", "客户数"),
    Measure("conversion_rate", "转化率", ratio=True),
)}


def aggregate(name: str, inner: object) -> ColumnElement[Any]:
    """The SQL aggregate of measure `name` over the inner query's columns `inner.c`."""
    c = inner.c  # type: ignore[attr-defined]
    if name == "referrals":
        return func.count(c.id)
    if name == "distinct_customers":
        return func.count(func.distinct(c.customer_key))
    if name == "conversion_rate":
        return cast(func.sum(c.f_attributed), Float) / func.nullif(func.count(c.id), 0)
    if name == "subscribed":
        return func.coalesce(func.sum(c.f_subscribed), 0)
    return func.coalesce(func.sum(c[f"f_{name}"]), 0)
