"""开盘选房: approved pledges are called by number; a missed call moves behind the next
one; a chosen unit is held for the pledge's subscription for the project's minutes
(15 by default), during which no other document may take it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from cloud.audit import service as audit_service
from cloud.deals import project_settings, scope
from cloud.deals.errors import CallNotFound, CallRefused, QueueEmpty, UnitHeldForPick
from cloud.deals.models import Deal, DealCall
from cloud.deals.states import Kind, Status
from cloud.identity.principal import Principal
from cloud.inventory import scope as inventory_scope
from cloud.inventory.errors import ProjectNotFound
from cloud.inventory.states import State as UnitState
from shared.timeutil import utcnow


def _hold_minutes(session: Session, project_id: int) -> int:
    return project_settings.of(session, project_id).pick_hold_minutes


def check_not_held(session: Session, unit_id: int, pledge_id: int | None) -> None:
    """Refuse a unit someone else's pledge chose within its hold."""
    held = session.exec(select(DealCall.pledge_id).where(
        DealCall.unit_id == unit_id, DealCall.status == "picked",
        col(DealCall.hold_until) > utcnow())).first()
    if held is not None and held != pledge_id:
        raise UnitHeldForPick()


def converted(session: Session, parent: Deal, child: Deal) -> None:
    """The pledge became a subscription: its call is done (its unit, if it picked one,
    is the subscription's now)."""
    call = session.exec(select(DealCall).where(DealCall.pledge_id == parent.id)).first()
    if call is not None and call.status in ("called", "picked"):
        call.status = "done"
        session.add(call)
    del child


def queue(session: Session, principal: Principal, project_id: int) -> list[DealCall]:
    """Give every approved pledge of the project without a number the next ones, in the
    order they were approved; the whole queue in its order."""
    inventory_scope.project(session, principal, project_id)
    queued = select(DealCall.pledge_id).where(DealCall.project_id == project_id)
    fresh = session.exec(select(Deal).where(
        Deal.project_id == project_id, Deal.kind == Kind.PLEDGE.value,
        Deal.status == Status.APPROVED.value, col(Deal.id).not_in(queued))
        .order_by(col(Deal.approved_at), col(Deal.id)).with_for_update()).all()
    top = session.exec(select(func.coalesce(func.max(DealCall.number), 0))
                       .where(DealCall.project_id == project_id)).one()
    last = session.exec(select(func.coalesce(func.max(DealCall.position), 0))
                        .where(DealCall.project_id == project_id)).one()
    for i, pledge in enumerate(fresh, start=1):
        assert pledge.id is not None
        session.add(DealCall(project_id=project_id, pledge_id=pledge.id, number=top + i,
                             position=last + i))
    session.flush()
    _audit(session, principal, "deal_call.queue", project_id, {"added": len(fresh)})
    return listing(session, principal, project_id)


def listing(session: Session, principal: Principal, project_id: int) -> list[DealCall]:
    inventory_scope.project(session, principal, project_id)
    return list(session.exec(select(DealCall).where(DealCall.project_id == project_id)
                             .order_by(col(DealCall.position))).all())


def call_next(session: Session, principal: Principal, project_id: int) -> DealCall:
    inventory_scope.project(session, principal, project_id)
    found = session.exec(select(DealCall).where(
        DealCall.project_id == project_id, DealCall.status == "waiting")
        .order_by(col(DealCall.position)).limit(1).with_for_update()).first()
    if found is None:
        raise QueueEmpty()
    found.status, found.called_at = "called", utcnow()
    session.add(found)
    session.flush()
    _audit(session, principal, "deal_call.call", project_id, {"call_id": found.id,
                                                              "number": found.number})
    return found


def _call(session: Session, principal: Principal, call_id: int, status: str) -> DealCall:
    found = session.get(DealCall, call_id, with_for_update=True)
    if found is None:
        raise CallNotFound()
    try:
        inventory_scope.project(session, principal, found.project_id)
    except ProjectNotFound:
        raise CallNotFound() from None
    if found.status != status:
        raise CallRefused()
    return found


def miss(session: Session, principal: Principal, call_id: int) -> DealCall:
    """过号: the called pledge goes back to waiting, right behind the next one."""
    found = _call(session, principal, call_id, "called")
    following = session.exec(select(DealCall).where(
        DealCall.project_id == found.project_id, DealCall.status == "waiting",
        col(DealCall.position) > found.position)
        .order_by(col(DealCall.position)).limit(1).with_for_update()).first()
    if following is not None:
        found.position, following.position = following.position, found.position
        session.add(following)
    found.status, found.called_at = "waiting", None
    session.add(found)
    session.flush()
    _audit(session, principal, "deal_call.miss", found.project_id,
           {"call_id": found.id, "number": found.number})
    return found


def pick(session: Session, principal: Principal, call_id: int, unit_id: int) -> DealCall:
    """The called customer chooses a unit: held for their subscription."""
    found = _call(session, principal, call_id, "called")
    pledge = scope.deal(session, principal, found.pledge_id)
    unit = inventory_scope.unit(session, principal, unit_id)
    if unit.project_id != found.project_id or unit.state != UnitState.AVAILABLE:
        raise CallRefused("所选房源必须是本项目待售的房源")
    if pledge.unit_id is not None and pledge.unit_id != unit_id:
        raise CallRefused("该认筹已绑定房源")
    now = utcnow()
    # A hold that ran out frees its unit for the next pick.
    for stale in session.exec(select(DealCall).where(
            DealCall.unit_id == unit_id, DealCall.status == "picked",
            col(DealCall.hold_until) <= now).with_for_update()).all():
        stale.status = "lapsed"
        session.add(stale)
    session.flush()
    until = now + timedelta(minutes=_hold_minutes(session, found.project_id))
    try:
        with session.begin_nested():
            found.status, found.unit_id, found.hold_until = "picked", unit_id, until
            session.add(found)
    except IntegrityError as clash:
        raise UnitHeldForPick() from clash
    _audit(session, principal, "deal_call.pick", found.project_id,
           {"call_id": found.id, "number": found.number, "unit_id": unit_id})
    return found


def _audit(session: Session, principal: Principal, action: str, project_id: int,
           detail: dict[str, object]) -> None:
    audit_service.record(session, action=action, principal=principal,
                         object_type="project", object_id=str(project_id), detail=detail)
