"""People's ownership actions: pick-up from the public pool (a consultant requests, a
sales director approves or refuses), a manager's transfer or allocation, marking a
customer invalid, resolving 撞单, a manual stage change. Every action is audited and
every change of owner is a step of the customer's path.

Each action locks the customer's row and checks what the caller saw (`expected_*`) is
still so: of two managers acting on one customer at once, the second is told it changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.identity import roster
from cloud.identity.deps import Principal
from cloud.sales import ownership, stages
from cloud.sales import service as sales_service
from cloud.sales.models import Customer, Visit
from cloud.sales.ownership_models import (
    INVALID,
    OVERDUE,
    OWNED,
    PUBLIC,
    Collision,
    PickupRequest,
)
from cloud.sales.ownership_rules import protection_end, rules_for
from cloud.settings import CloudSettings
from cloud.sync import feed
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.timeutil import as_utc, utcnow


class OwnershipChanged(Conflict):
    code = "ownership_changed"
    title = "客户归属已被他人变更，请刷新后再操作"


class NotInPool(Conflict):
    code = "customer_not_in_pool"
    title = "该客户不在公客池中（可能已被领取或分配）"


class ReclaimRefused(Forbidden):
    code = "pool_reclaim_refused"
    title = "客户从您名下释放到公客池，不能由您领回"


class PickupPending(Conflict):
    code = "pickup_already_requested"
    title = "您已申请领取该客户，请等待销售总监审批"


class PickupNotFound(NotFound):
    code = "pickup_not_found"
    title = "领取申请不存在或不在您的数据范围内"


class PickupDecided(Conflict):
    code = "pickup_already_decided"
    title = "该领取申请已处理"


class SelfApproval(Forbidden):
    code = "pickup_self_approval"
    title = "不能审批自己的领取申请"


class AssigneeInvalid(ValidationFailed):
    code = "assignee_not_site_staff"
    title = "接收人必须是该案场在职的置业顾问或销售经理"


class CollisionNotFound(NotFound):
    code = "collision_not_found"
    title = "撞单记录不存在或不在您的数据范围内"


def _locked(session: Session, principal: Principal, customer_id: int) -> tuple[Customer, str]:
    """The customer in the caller's scope (404 else), its row locked; with its site."""
    sales_service.get_customer(session, principal=principal, customer_id=customer_id)
    customer = session.exec(select(Customer).where(Customer.id == customer_id)
                            .with_for_update().execution_options(populate_existing=True)).one()
    project = session.get(Project, customer.project_id)
    assert project is not None
    return customer, project.site_id


def _audit(session: Session, principal: Principal, customer: Customer, *, action: str,
           **detail: object) -> None:
    audit_service.record(session, action=action, principal=principal, ip=principal.ip,
                         object_type="customer", object_id=str(customer.id),
                         detail={"project_id": customer.project_id, **detail})


def _take(session: Session, customer: Customer, to_user_id: int, at: datetime) -> None:
    """`to_user_id` owns the customer from `at`: protection and the follow-up clock start."""
    rules = rules_for(session, {customer.project_id})[customer.project_id]
    customer.owner_id = to_user_id
    customer.ownership = OWNED
    customer.owned_since = at
    customer.protection_until = protection_end(at, rules.protection_days)
    customer.warned_for = None


# ---- the public pool ------------------------------------------------------------------


def request_pickup(session: Session, *, principal: Principal, customer_id: int,
                   reason: str | None, now: datetime | None = None) -> PickupRequest:
    at = now or utcnow()
    customer, _ = _locked(session, principal, customer_id)
    if customer.ownership != PUBLIC:
        raise NotInPool()
    if customer.previous_owner_id == principal.user_id:
        rules = rules_for(session, {customer.project_id})[customer.project_id]
        cooldown = rules.reclaim_cooldown_days
        if cooldown is None or customer.lapsed_at is None or (
                as_utc(at) < as_utc(customer.lapsed_at) + timedelta(days=cooldown)):
            raise ReclaimRefused()
    request = PickupRequest(customer_id=customer_id, project_id=customer.project_id,
                            requester_id=principal.user_id, reason=reason, created_at=at)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError as exc:
        raise PickupPending() from exc
    _audit(session, principal, customer, action="customer.pickup_request",
           request_id=request.id)
    return request


def decide_pickup(session: Session, *, settings: CloudSettings, principal: Principal,
                  request_id: int, approve: bool, note: str | None,
                  now: datetime | None = None) -> PickupRequest:
    """A sales director's decision. Approving gives the customer to the requester and
    refuses the other pending requests for them; the customer must still be in the pool."""
    at = now or utcnow()
    request = session.get(PickupRequest, request_id)
    project = session.get(Project, request.project_id) if request else None
    if request is None or project is None or not principal.sees_site(project.site_id):
        raise PickupNotFound()
    if request.requester_id == principal.user_id:
        raise SelfApproval()
    customer, _ = _locked(session, principal, request.customer_id)
    session.refresh(request)  # decided by another director while we waited for the lock
    if request.status != "pending":
        raise PickupDecided()
    if approve and customer.ownership != PUBLIC:
        raise NotInPool()
    request.status = "approved" if approve else "refused"
    request.decided_by, request.decided_at, request.decision_note = principal.user_id, at, note
    if approve:
        _take(session, customer, request.requester_id, at)
        ownership.log_step(session, customer, ownership.PICKUP, at=at,
                           from_owner_id=customer.previous_owner_id,
                           to_owner_id=request.requester_id, actor_id=principal.user_id,
                           category="public", reason=request.reason)
        session.exec(update(PickupRequest).where(
            col(PickupRequest.customer_id) == customer.id,
            col(PickupRequest.status) == "pending", col(PickupRequest.id) != request.id,
        ).values(status="refused", decided_by=principal.user_id, decided_at=at,
                 decision_note="客户已由他人领取"))
        feed.announce_customer(session, settings, customer)
    session.flush()
    decision = {"request_id": request.id, "requester_id": request.requester_id, "note": note}
    if approve:
        _audit(session, principal, customer, action="customer.pickup_approve", **decision)
    else:
        _audit(session, principal, customer, action="customer.pickup_refuse", **decision)
    return request


# ---- managers -------------------------------------------------------------------------


def category_of(session: Session, customer: Customer) -> str:
    """What the customer is, for the path of an allocation (the first that applies)."""
    if customer.ownership == OVERDUE:
        return "overdue"
    if customer.ownership == PUBLIC:
        return "public"
    if customer.ownership == INVALID:
        return "invalid"
    if session.exec(select(Collision.id).where(Collision.customer_id == customer.id,
                                               col(Collision.resolved_at).is_(None))).first():
        return "collided"
    if session.exec(select(Visit.id).where(Visit.customer_id == customer.id,
                                           col(Visit.broker_id).is_not(None))).first():
        return "channel"
    return "in_progress"


def assign(session: Session, *, settings: CloudSettings, principal: Principal,
           customer_id: int, to_user_id: int, expected_owner_id: int | None,
           expected_ownership: str, reason: str, now: datetime | None = None) -> Customer:
    """转交 (the customer had an owner) or 分配 (it had none): a manager's decision, with
    what they saw on the screen; anything changed since is refused."""
    at = now or utcnow()
    customer, site_id = _locked(session, principal, customer_id)
    if (customer.owner_id, customer.ownership) != (expected_owner_id, expected_ownership):
        raise OwnershipChanged()
    staff = {m.id for m in roster.site_staff(session, site_ids={site_id}) if m.active}
    if to_user_id not in staff or to_user_id == customer.owner_id:
        raise AssigneeInvalid()
    category = category_of(session, customer)
    previous = customer.owner_id or customer.previous_owner_id
    kind = ownership.TRANSFER if customer.owner_id is not None else ownership.ALLOCATE
    if customer.owner_id is not None:
        customer.previous_owner_id = customer.owner_id
    _take(session, customer, to_user_id, at)
    ownership.log_step(session, customer, kind, at=at, from_owner_id=previous,
                       to_owner_id=to_user_id, actor_id=principal.user_id, category=category,
                       reason=reason)
    _close_collisions(session, customer, principal, at)
    _refuse_pickups(session, customer, principal, at, "客户已由经理分配")
    feed.announce_customer(session, settings, customer)
    session.flush()
    moved = {"from_owner_id": previous, "to_owner_id": to_user_id, "category": category,
             "reason": reason}
    if kind == ownership.TRANSFER:
        _audit(session, principal, customer, action="customer.transfer", **moved)
    else:
        _audit(session, principal, customer, action="customer.allocate", **moved)
    return customer


def invalidate(session: Session, *, settings: CloudSettings, principal: Principal,
               customer_id: int, expected_ownership: str, reason: str,
               now: datetime | None = None) -> Customer:
    """无效 (wrong number, an agent, not a buyer): out of everyone's list until allocated."""
    at = now or utcnow()
    customer, _ = _locked(session, principal, customer_id)
    if customer.ownership != expected_ownership or customer.ownership == INVALID:
        raise OwnershipChanged()
    previous = customer.owner_id
    customer.previous_owner_id = previous or customer.previous_owner_id
    customer.owner_id, customer.ownership = None, INVALID
    ownership.log_step(session, customer, ownership.INVALIDATE, at=at, from_owner_id=previous,
                       actor_id=principal.user_id, reason=reason)
    _refuse_pickups(session, customer, principal, at, "客户已被标记为无效")
    feed.announce_customer(session, settings, customer)
    session.flush()
    _audit(session, principal, customer, action="customer.invalidate",
           from_owner_id=previous, reason=reason)
    return customer


def resolve_collision(session: Session, *, principal: Principal, collision_id: int,
                      now: datetime | None = None) -> Collision:
    """The manager looked into the 撞单 and keeps the owner as is."""
    row = session.get(Collision, collision_id)
    project = session.get(Project, row.project_id) if row else None
    if row is None or project is None or not principal.sees_site(project.site_id):
        raise CollisionNotFound()
    if row.resolved_at is None:
        row.resolved_at, row.resolved_by = now or utcnow(), principal.user_id
        session.flush()
        audit_service.record(session, action="customer.collision_resolve",
                             principal=principal, ip=principal.ip, object_type="customer",
                             object_id=str(row.customer_id),
                             detail={"collision_id": row.id, "owner_id": row.owner_id,
                                     "consultant_id": row.consultant_id})
    return row


def change_stage(session: Session, *, settings: CloudSettings, principal: Principal,
                 customer_id: int, to: str, reason: str) -> Customer:
    customer, _ = _locked(session, principal, customer_id)
    before = customer.status
    stages.check(before, to, principal.roles)
    customer.status = to
    session.flush()
    feed.announce_customer(session, settings, customer)  # the PWA filters by stage offline
    _audit(session, principal, customer, action="customer.stage", before=before, after=to,
           reason=reason)
    return customer


def _close_collisions(session: Session, customer: Customer, principal: Principal,
                      at: datetime) -> None:
    session.exec(update(Collision).where(
        col(Collision.customer_id) == customer.id, col(Collision.resolved_at).is_(None),
    ).values(resolved_at=at, resolved_by=principal.user_id))


def _refuse_pickups(session: Session, customer: Customer, principal: Principal,
                    at: datetime, note: str) -> None:
    session.exec(update(PickupRequest).where(
        col(PickupRequest.customer_id) == customer.id, col(PickupRequest.status) == "pending",
    ).values(status="refused", decided_by=principal.user_id, decided_at=at,
             decision_note=note))
