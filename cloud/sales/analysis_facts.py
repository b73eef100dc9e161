"""The facts 销售分析 counts, each a Core selectable of one row per fact with the keys of
the four dimensions (team, product, consultant, channel) as plain columns, and the scope
every figure applies (ADR 0045, docs/sales-analysis.md).

Dimension keys, per fact:
- team (销售团队): the 案场 (site) — the platform has no team below the sales office;
- product (产品/户型): a visit's intended layout (visit profile); a deal's unit layout;
- consultant (置业顾问): the visit's receiving consultant; the deal's consultant; for a
  stored customer (储客) the receiver of their first visit (第一接待);
- channel (渠道/来源): the visit's source; for a deal or a stored customer the source of
  the customer's first visit at the project.

An incoming call (来电登记) has a team (its site) and a consultant (who answered) only: no
layout is asked on the phone and a call has no visit source (ADR 0056).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from cloud.catalog.models import Project
from cloud.channel.analytics import beijing_start
from cloud.deals.models import Deal, DealChange
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal
from cloud.inventory.models import Unit
from cloud.reception.models import CallRecord, VisitProfileRecord
from cloud.sales.models import Customer, FollowUp, Visit
from shared.dbtypes import table_of

DIMENSIONS = ("team", "product", "consultant", "channel")

visit_t = table_of(Visit)
profile_t = table_of(VisitProfileRecord)
call_t = table_of(CallRecord)
customer_t = table_of(Customer)
follow_up_t = table_of(FollowUp)
deal_t = table_of(Deal)
change_t = table_of(DealChange)
unit_t = table_of(Unit)
project_t = table_of(Project)


@dataclass(frozen=True)
class Scope:
    """Whose facts count: the projects of the caller's sites (narrowed to one project
    when asked) and, for a reader without SALES_ANALYSIS_ALL, only their own."""

    site_ids: frozenset[str] | None
    project_id: int | None
    own_user_id: int | None

    @classmethod
    def of(cls, principal: Principal, project_id: int | None) -> Scope:
        own = None if principal.can(Perm.SALES_ANALYSIS_ALL) else principal.user_id
        return cls(principal.site_ids, project_id, own)

    def projects(self, column: Any) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = []
        if self.project_id is not None:
            clauses.append(column == self.project_id)
        if self.site_ids is not None:
            clauses.append(column.in_(select(project_t.c.id)
                                      .where(project_t.c.site_id.in_(sorted(self.site_ids)))))
        return and_(true(), *clauses)

    def own(self, column: Any) -> ColumnElement[bool]:
        return true() if self.own_user_id is None else column == self.own_user_id


def between_days(column: Any, start: date, end: date) -> ColumnElement[bool]:
    """A UTC timestamp inside the Beijing days [start, end]."""
    return and_(column >= beijing_start(start), column < beijing_start(end + timedelta(days=1)))


def first_visits(scope: Scope, customers: Select[Any]) -> Any:
    """The first visit of each of `customers` (a select of customer ids): its consultant,
    source and intended layout. A window over those customers' visits only (the same on
    PostgreSQL and SQLite), not over every visit of the project."""
    ranked = (select(visit_t.c.customer_id, visit_t.c.consultant_id, visit_t.c.source,
                     visit_t.c.site_id, profile_t.c.layout,
                     func.row_number().over(partition_by=visit_t.c.customer_id,
                                            order_by=(visit_t.c.occurred_at, visit_t.c.id))
                     .label("rn"))
              .select_from(visit_t.outerjoin(profile_t, profile_t.c.visit_id == visit_t.c.id))
              .where(scope.projects(visit_t.c.project_id),
                     visit_t.c.customer_id.in_(customers))
              .subquery("ranked"))
    return select(ranked).where(ranked.c.rn == 1).subquery("first_visit")


def visits(scope: Scope, start: date, end: date) -> Select[Any]:
    """到访: one row per visit (one customer, one Beijing day) in [start, end], with its
    profile's intention columns."""
    return (select(visit_t.c.id, visit_t.c.is_first_visit,
                   visit_t.c.site_id.label("team"), profile_t.c.layout.label("product"),
                   visit_t.c.consultant_id.label("consultant"),
                   visit_t.c.source.label("channel"), profile_t.c.awareness,
                   profile_t.c.grade, profile_t.c.purpose, profile_t.c.gender,
                   profile_t.c.phone_region, profile_t.c.area_min, profile_t.c.area_max,
                   profile_t.c.budget_min, profile_t.c.budget_max)
            .select_from(visit_t.outerjoin(profile_t, profile_t.c.visit_id == visit_t.c.id))
            .where(visit_t.c.visit_date >= start, visit_t.c.visit_date <= end,
                   scope.projects(visit_t.c.project_id), scope.own(visit_t.c.consultant_id)))


def _deal_keys(first: Any) -> list[Any]:
    return [project_t.c.site_id.label("team"), unit_t.c.layout.label("product"),
            deal_t.c.consultant_id.label("consultant"), first.c.source.label("channel")]


def _deal_from(first: Any) -> Any:
    return (deal_t.join(project_t, project_t.c.id == deal_t.c.project_id)
            .outerjoin(unit_t, unit_t.c.id == deal_t.c.unit_id)
            .outerjoin(first, first.c.customer_id == deal_t.c.customer_id))


def deals(scope: Scope, start: date, end: date) -> Select[Any]:
    """Deal documents approved in the days (whatever they became since: converted,
    returned…): kind, price."""
    where = (deal_t.c.approved_at.is_not(None), between_days(deal_t.c.approved_at, start, end),
             scope.projects(deal_t.c.project_id), scope.own(deal_t.c.consultant_id))
    first = first_visits(scope, select(deal_t.c.customer_id).where(*where))
    return (select(deal_t.c.id, deal_t.c.kind, deal_t.c.price_fen, *_deal_keys(first))
            .select_from(_deal_from(first)).where(*where))


def calls(scope: Scope, start: date, end: date) -> Select[Any]:
    """来电: one row per registered call whose Beijing day is in [start, end]."""
    return (select(call_t.c.id, call_t.c.site_id.label("team"),
                   call_t.c.consultant_id.label("consultant"))
            .where(call_t.c.call_date >= start, call_t.c.call_date <= end,
                   scope.projects(call_t.c.project_id), scope.own(call_t.c.consultant_id)))


def stand_in_subscriptions(scope: Scope, start: date, end: date) -> Select[Any]:
    """Subscriptions approved in the days whose customer was received at the project by a
    stand-in (义务接待) for the deal's consultant, with that visit's day: a candidate for
    the stand-in's share when the day is the approval's Beijing day (checked by the
    caller, the same on every database). Not narrowed to the reader: the share moves
    credit between two consultants, either of whom may be reading."""
    where = (deal_t.c.kind == "subscription", deal_t.c.approved_at.is_not(None),
             between_days(deal_t.c.approved_at, start, end),
             scope.projects(deal_t.c.project_id))
    first = first_visits(scope, select(deal_t.c.customer_id).where(*where))
    stand_in = (visit_t.join(profile_t, profile_t.c.visit_id == visit_t.c.id))
    return (select(deal_t.c.id, deal_t.c.price_fen, deal_t.c.approved_at, *_deal_keys(first),
                   visit_t.c.visit_date, visit_t.c.consultant_id.label("stand_in"),
                   profile_t.c.stand_in_share)
            .select_from(_deal_from(first).join(
                stand_in, and_(visit_t.c.customer_id == deal_t.c.customer_id,
                               visit_t.c.project_id == deal_t.c.project_id)))
            .where(*where, profile_t.c.stand_in_for_id == deal_t.c.consultant_id,
                   visit_t.c.consultant_id.is_not(None),
                   visit_t.c.consultant_id != deal_t.c.consultant_id,
                   visit_t.c.visit_date >= start, visit_t.c.visit_date <= end))


def changes(scope: Scope, start: date, end: date) -> Select[Any]:
    """Change requests applied in the days on contracts: 退房 (cancel) and 换房 (swap),
    with the contract's price when decided (a swap keeps the document)."""
    where = (change_t.c.status == "applied", change_t.c.kind.in_(("cancel", "swap")),
             deal_t.c.kind == "contract", between_days(change_t.c.decided_at, start, end),
             scope.projects(deal_t.c.project_id), scope.own(deal_t.c.consultant_id))
    first = first_visits(scope, select(deal_t.c.customer_id).select_from(
        deal_t.join(change_t, change_t.c.deal_id == deal_t.c.id)).where(*where))
    return (select(change_t.c.id, change_t.c.kind, deal_t.c.price_fen, *_deal_keys(first))
            .select_from(_deal_from(first).join(change_t, change_t.c.deal_id == deal_t.c.id))
            .where(*where))


def stored_customers(scope: Scope, start: date, end: date) -> Select[Any]:
    """储客: the customers whose first visit at the project fell in the days, with whether
    they were followed (跟客) and whether they bought (成交), as of now."""
    cohort = (between_days(customer_t.c.first_visit_at, start, end),
              scope.projects(customer_t.c.project_id))
    first = first_visits(scope, select(customer_t.c.id).where(*cohort))
    followed = (select(follow_up_t.c.id)
                .where(follow_up_t.c.customer_id == customer_t.c.id,
                       follow_up_t.c.effective.is_(True)).exists())
    bought = (select(deal_t.c.id)
              .where(deal_t.c.customer_id == customer_t.c.id,
                     deal_t.c.kind == "subscription", deal_t.c.approved_at.is_not(None))
              .exists())
    return (select(customer_t.c.id, first.c.site_id.label("team"),
                   first.c.layout.label("product"), first.c.consultant_id.label("consultant"),
                   first.c.source.label("channel"),
                   or_(followed, customer_t.c.visit_count > 1, bought).label("followed"),
                   bought.label("bought"))
            .select_from(customer_t.join(first, first.c.customer_id == customer_t.c.id))
            .where(*cohort, scope.own(first.c.consultant_id)))


def released_units(scope: Scope) -> Select[Any]:
    """去化: the units released in a batch now (a withdrawn unit leaves its batch), with
    whether they are sold (认购 or later)."""
    return (select(unit_t.c.id, unit_t.c.batch_id.label("batch"),
                   unit_t.c.layout.label("product"), project_t.c.site_id.label("team"),
                   unit_t.c.state.in_(("subscribed", "signed", "delivered")).label("sold"),
                   unit_t.c.area_centi)
            .select_from(unit_t.join(project_t, project_t.c.id == unit_t.c.project_id))
            .where(unit_t.c.batch_id.is_not(None), scope.projects(unit_t.c.project_id)))
