"""Moving a unit between states: the only writer of Unit.state.

Every move is checked against the table in cloud.inventory.states, written as a
compare-and-set on the state read (so two managers acting at once cannot both win),
logged in the 销控 log, bumps the project's grid version and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from cloud.audit import service as audit_service
from cloud.identity.principal import Principal
from cloud.inventory import project_state
from cloud.inventory.errors import (
    PledgeUnreleasedRefused,
    ReasonRequired,
    StateChanged,
    TransitionByDeal,
    TransitionNotPermitted,
    TransitionRefused,
)
from cloud.inventory.models import Unit, UnitLog
from cloud.inventory.states import TRANSITIONS, Action, Driver, State, Transition
from shared.timeutil import utcnow


@dataclass(frozen=True)
class Move:
    action: Action
    reason: str = ""
    hold_until: datetime | None = None  # a 预留's end


def check(state: State, action: Action, *, driver: Driver,
          principal: Principal | None) -> Transition:
    """The table's answer for this move by this driver, or the refusal."""
    found = TRANSITIONS.get((state, action))
    if found is None:
        raise TransitionRefused()
    if found.driver != driver:
        raise TransitionByDeal() if found.driver == Driver.DEAL else TransitionRefused()
    if found.perm is not None and (principal is None or not principal.can(found.perm)):
        raise TransitionNotPermitted()
    return found


def apply(session: Session, unit: Unit, move: Move, *, principal: Principal | None,
          driver: Driver = Driver.STAFF, audit: bool = True) -> UnitLog:
    """Move `unit` as read by the caller; StateChanged if it moved meanwhile."""
    assert unit.id is not None
    before = State(unit.state)
    transition = check(before, move.action, driver=driver, principal=principal)
    reason = move.reason.strip()
    if transition.needs_reason and not reason:
        raise ReasonRequired()
    if before == State.UNRELEASED and move.action == Action.PLEDGE and not project_state.row(
            session, unit.project_id).pledge_unreleased:
        raise PledgeUnreleasedRefused()
    now = utcnow()
    values: dict[str, object] = {
        "state": transition.to.value, "updated_at": now,
        "hold_until": move.hold_until if transition.to == State.RESERVED else None,
        "control_reason": reason if transition.to == State.CONTROLLED else "",
    }
    if transition.to == State.UNRELEASED:
        values["batch_id"] = None
    moved = session.execute(
        update(Unit).where(col(Unit.id) == unit.id, col(Unit.state) == before.value)
        .values(**values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise StateChanged()
    session.refresh(unit)
    log = UnitLog(project_id=unit.project_id, unit_id=unit.id, action=move.action.value,
                  from_state=before.value, to_state=transition.to.value,
                  actor_id=principal.user_id if principal else None, reason=reason, at=now)
    session.add(log)
    project_state.bump(session, unit.project_id)
    if audit:
        audit_service.record(
            session, action="unit.transition", principal=principal,
            actor=None if principal else "system", object_type="unit",
            object_id=str(unit.id), detail={"project_id": unit.project_id,
                                            "action": move.action.value,
                                            "from": before.value, "to": transition.to.value,
                                            "reason": reason})
    session.flush()
    return log
