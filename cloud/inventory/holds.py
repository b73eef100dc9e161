"""预留: a consultant asks to hold a unit for a customer, a manager approves (the unit
becomes 预留 until the hold ends), and the expiry job hands it back to 待售."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal
from cloud.inventory import project_state, scope, transitions
from cloud.inventory.errors import (
    CustomerNotInProject,
    HoldNotFound,
    HoldNotPending,
    HoldPending,
    HoldTooLong,
    ProjectNotFound,
    ReasonRequired,
    TransitionRefused,
)
from cloud.inventory.models import Unit, UnitHold
from cloud.inventory.states import Action, Driver, State
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

# Expired holds handed back per run of the job; the rest wait for the next minute.
EXPIRY_BATCH = 500


@dataclass(frozen=True)
class HoldRequest:
    unit_id: int
    reason: str
    days: int
    customer_id: int | None = None


def request(session: Session, principal: Principal, data: HoldRequest) -> UnitHold:
    unit = scope.unit(session, principal, data.unit_id, for_update=True)
    if not data.reason.strip():
        raise ReasonRequired()
    # A 销控 unit is the developer's: only who may lift the hold may turn it into a 预留.
    askable = {State.AVAILABLE} | ({State.CONTROLLED} if principal.can(Perm.INVENTORY_CONTROL)
                                   else set())
    if unit.state not in askable:
        raise TransitionRefused()
    settings = project_state.row(session, unit.project_id)
    if data.days > settings.reserve_max_days:
        raise HoldTooLong(f"预留最多 {settings.reserve_max_days} 天")
    if data.customer_id is not None:
        customer = session.get(Customer, data.customer_id)
        if customer is None or customer.project_id != unit.project_id:
            raise CustomerNotInProject()
    pending = session.exec(select(UnitHold.id).where(
        UnitHold.unit_id == unit.id, UnitHold.status == "pending")).first()
    if pending is not None:
        raise HoldPending()
    assert unit.id is not None
    hold = UnitHold(project_id=unit.project_id, unit_id=unit.id, customer_id=data.customer_id,
                    reason=data.reason.strip(), days=data.days, requested_by=principal.user_id)
    session.add(hold)
    session.flush()
    # The pending list is read beside the grid: a new request moves its version too.
    project_state.bump(session, unit.project_id)
    _audit(session, principal, hold, action="unit_hold.request")
    return hold


def _hold(session: Session, principal: Principal, hold_id: int) -> UnitHold:
    hold = session.get(UnitHold, hold_id, with_for_update=True)
    if hold is None:
        raise HoldNotFound()
    try:
        scope.project(session, principal, hold.project_id)
    except ProjectNotFound:
        raise HoldNotFound() from None
    if not principal.can(Perm.INVENTORY_READ_ALL) and hold.requested_by != principal.user_id:
        raise HoldNotFound()
    if hold.status != "pending":
        raise HoldNotPending()
    return hold


def approve(session: Session, principal: Principal, hold_id: int, note: str) -> UnitHold:
    hold = _hold(session, principal, hold_id)
    unit = scope.unit(session, principal, hold.unit_id, for_update=True)
    until = utcnow() + timedelta(days=hold.days)
    transitions.apply(session, unit, transitions.Move(Action.RESERVE, hold.reason, until),
                      principal=principal)
    return _decide(session, principal, hold, "approved", note, action="unit_hold.approve")


def reject(session: Session, principal: Principal, hold_id: int, note: str) -> UnitHold:
    if not note.strip():
        raise ReasonRequired()
    return _decide(session, principal, _hold(session, principal, hold_id), "rejected", note,
                   action="unit_hold.reject")


def cancel(session: Session, principal: Principal, hold_id: int) -> UnitHold:
    hold = _hold(session, principal, hold_id)
    if hold.requested_by != principal.user_id and not principal.can(Perm.INVENTORY_CONTROL):
        raise HoldNotFound()
    return _decide(session, principal, hold, "cancelled", "", action="unit_hold.cancel")


def _decide(session: Session, principal: Principal, hold: UnitHold, status: str,
            note: str, *, action: str) -> UnitHold:
    hold.status, hold.decision_note = status, note.strip()
    hold.decided_by, hold.decided_at = principal.user_id, utcnow()
    session.add(hold)
    session.flush()
    project_state.bump(session, hold.project_id)
    _audit(session, principal, hold, action=action)
    return hold


def _audit(session: Session, principal: Principal, hold: UnitHold, *, action: str) -> None:
    audit_service.record(session, action=action, principal=principal, object_type="unit_hold",
                         object_id=str(hold.id), detail={
                             "unit_id": hold.unit_id, "project_id": hold.project_id,
                             "days": hold.days, "customer_id": hold.customer_id})


def listing(session: Session, principal: Principal, project_id: int,
            status: str | None) -> list[UnitHold]:
    scope.project(session, principal, project_id)
    query = select(UnitHold).where(UnitHold.project_id == project_id)
    if status:
        query = query.where(UnitHold.status == status)
    if not principal.can(Perm.INVENTORY_READ_ALL):
        query = query.where(UnitHold.requested_by == principal.user_id)
    return list(session.exec(query.order_by(col(UnitHold.id).desc()).limit(500)).all())


def expire(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The job: every 预留 past its end goes back to 待售 (logged as the system's)."""
    del settings
    due = session.exec(select(Unit).where(
        Unit.state == State.RESERVED.value, col(Unit.hold_until) <= utcnow())
        .order_by(col(Unit.id)).limit(EXPIRY_BATCH).with_for_update(skip_locked=True)).all()
    for unit in due:
        transitions.apply(session, unit, transitions.Move(Action.EXPIRE, "预留到期"),
                          principal=None, driver=Driver.SYSTEM)
    return {"expired": len(due)}
