"""Reading ownership: the customer lists by category (mine, the pool, overdue, 撞单 …),
a customer's ownership card with its path, pick-up requests and collisions — scoped by
the caller's sites as every customer read is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from cloud.catalog.models import Project
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales import service as sales_service
from cloud.sales.models import Customer, Visit
from cloud.sales.ownership import customer_deadline
from cloud.sales.ownership_models import (
    INVALID,
    OVERDUE,
    OWNED,
    PUBLIC,
    Collision,
    OwnershipEvent,
    PickupRequest,
)
from cloud.sales.ownership_rules import Deadline, rules_for
from cloud.sales.stages import NEVER_LAPSE
from shared.errors import Forbidden

MINE = "mine"
# What a consultant may list; managers (sales:ownership:assign) list every category.
CONSULTANT_CATEGORIES = (MINE, "public")


class CategoryForbidden(Forbidden):
    code = "ownership_category_forbidden"
    title = "只有销售经理可以查看该类客户"


@dataclass(frozen=True)
class Row:
    customer: Customer
    site_id: str
    owner_name: str | None
    previous_owner_name: str | None
    deadline: Deadline | None
    open_collisions: int


def _category(query: SelectOfScalar[Customer], category: str, user_id: int
              ) -> SelectOfScalar[Customer]:
    open_collision = exists().where(col(Collision.customer_id) == Customer.id,
                                    col(Collision.resolved_at).is_(None))
    if category == MINE:
        return query.where(Customer.owner_id == user_id)
    if category in ("public", "overdue", "invalid"):
        state = {"public": PUBLIC, "overdue": OVERDUE, "invalid": INVALID}[category]
        return query.where(Customer.ownership == state)
    if category == "collided":
        return query.where(open_collision)
    if category == "in_progress":
        return query.where(Customer.ownership == OWNED, col(Customer.owner_id).is_not(None))
    if category == "channel":
        return query.where(exists().where(col(Visit.customer_id) == Customer.id,
                                          col(Visit.broker_id).is_not(None)))
    return query


def list_customers(session: Session, *, principal: Principal, category: str, manager: bool,
                   project_id: int | None, site_id: str | None, owner_id: int | None,
                   limit: int, offset: int) -> tuple[list[Row], int]:
    if not manager and category not in CONSULTANT_CATEGORIES:
        raise CategoryForbidden()
    query = select(Customer).join(Project, col(Project.id) == Customer.project_id)
    if principal.site_ids is not None:
        query = query.where(col(Project.site_id).in_(principal.site_ids))
    if site_id:
        query = query.where(Project.site_id == site_id)
    if project_id:
        query = query.where(Customer.project_id == project_id)
    if owner_id:
        query = query.where(Customer.owner_id == owner_id)
    query = _category(query, category, principal.user_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    customers = list(session.exec(
        query.order_by(col(Customer.last_visit_at).desc(), col(Customer.id).desc())
        .offset(offset).limit(limit)).all())
    return rows_of(session, customers), total


def rows_of(session: Session, customers: list[Customer]) -> list[Row]:
    ids = [c.id for c in customers]
    sites = dict(session.exec(select(Project.id, Project.site_id).where(
        col(Project.id).in_({c.project_id for c in customers}))).all())
    names = dict(session.exec(select(User.id, User.display_name).where(col(User.id).in_(
        {u for c in customers for u in (c.owner_id, c.previous_owner_id) if u}))).all())
    collisions = dict(session.exec(
        select(Collision.customer_id, func.count()).where(
            col(Collision.customer_id).in_(ids), col(Collision.resolved_at).is_(None))
        .group_by(col(Collision.customer_id))).all())
    rules = rules_for(session, {c.project_id for c in customers})
    rows = []
    for c in customers:
        live = c.ownership in (OWNED, OVERDUE) and c.owner_id and c.status not in NEVER_LAPSE
        rows.append(Row(
            customer=c, site_id=sites[c.project_id],
            owner_name=names.get(c.owner_id) if c.owner_id else None,
            previous_owner_name=names.get(c.previous_owner_id) if c.previous_owner_id else None,
            deadline=customer_deadline(c, rules=rules[c.project_id]) if live else None,
            open_collisions=collisions.get(c.id or 0, 0)))
    return rows


@dataclass(frozen=True)
class PathStep:
    event: OwnershipEvent
    from_name: str | None
    to_name: str | None
    actor_name: str | None


def card(session: Session, *, principal: Principal, customer_id: int
         ) -> tuple[Row, list[PathStep], list[tuple[Collision, str | None]]]:
    """A customer's ownership now, its path (oldest first) and its 撞单 records."""
    customer = sales_service.get_customer(session, principal=principal,
                                          customer_id=customer_id)
    [row] = rows_of(session, [customer])
    events = list(session.exec(select(OwnershipEvent).where(
        OwnershipEvent.customer_id == customer_id).order_by(col(OwnershipEvent.id))).all())
    collisions = list(session.exec(select(Collision).where(
        Collision.customer_id == customer_id).order_by(col(Collision.id))).all())
    people = {u for e in events for u in (e.from_owner_id, e.to_owner_id, e.actor_id) if u}
    people |= {c.consultant_id for c in collisions}
    names = dict(session.exec(select(User.id, User.display_name).where(
        col(User.id).in_(people))).all())
    path = [PathStep(e, names.get(e.from_owner_id or 0), names.get(e.to_owner_id or 0),
                     names.get(e.actor_id or 0)) for e in events]
    return row, path, [(c, names.get(c.consultant_id)) for c in collisions]


@dataclass(frozen=True)
class PickupRow:
    request: PickupRequest
    customer: Customer
    requester_name: str
    decided_by_name: str | None


def list_pickups(session: Session, *, principal: Principal, mine_only: bool,
                 status: str | None, project_id: int | None, limit: int,
                 request_id: int | None = None) -> list[PickupRow]:
    decider = aliased(User)
    query = (select(PickupRequest, Customer, User.display_name, decider.display_name)
             .join(Customer, col(Customer.id) == PickupRequest.customer_id)
             .join(Project, col(Project.id) == PickupRequest.project_id)
             .join(User, col(User.id) == PickupRequest.requester_id)
             .outerjoin(decider, col(decider.id) == PickupRequest.decided_by))
    if principal.site_ids is not None:
        query = query.where(col(Project.site_id).in_(principal.site_ids))
    if mine_only:
        query = query.where(PickupRequest.requester_id == principal.user_id)
    if status:
        query = query.where(PickupRequest.status == status)
    if project_id:
        query = query.where(PickupRequest.project_id == project_id)
    if request_id:
        query = query.where(PickupRequest.id == request_id)
    found = session.exec(query.order_by(col(PickupRequest.id).desc()).limit(limit)).all()
    return [PickupRow(r, c, name, decided) for r, c, name, decided in found]


def list_collisions(session: Session, *, principal: Principal, open_only: bool,
                    project_id: int | None, limit: int, collision_id: int | None = None
                    ) -> list[tuple[Collision, Customer, str | None, str | None]]:
    consultant = aliased(User)
    query = (select(Collision, Customer, User.display_name, consultant.display_name)
             .join(Customer, col(Customer.id) == Collision.customer_id)
             .join(Project, col(Project.id) == Collision.project_id)
             .outerjoin(User, col(User.id) == Collision.owner_id)
             .outerjoin(consultant, col(consultant.id) == Collision.consultant_id))
    if principal.site_ids is not None:
        query = query.where(col(Project.site_id).in_(principal.site_ids))
    if open_only:
        query = query.where(col(Collision.resolved_at).is_(None))
    if project_id:
        query = query.where(Collision.project_id == project_id)
    if collision_id:
        query = query.where(Collision.id == collision_id)
    found = session.exec(query.order_by(col(Collision.id).desc()).limit(limit)).all()
    return [(c, cu, o, n) for c, cu, o, n in found]

