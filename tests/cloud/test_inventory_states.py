"""The unit's state machine walked exhaustively: every state × every action × every role
(and the system and deals drivers), each allowed move made and logged, each refused one
refused with its own code. The expected answers are written here by hand, not read from
cloud.inventory.states, so a changed table fails."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.inventory import project_state, transitions
from cloud.inventory.errors import (
    PledgeUnreleasedRefused,
    ReasonRequired,
    TransitionByDeal,
    TransitionNotPermitted,
    TransitionRefused,
)
from cloud.inventory.models import InventoryProject, Unit, UnitLog
from cloud.inventory.states import Action, Driver, State
from cloud.settings import CloudSettings
from shared.errors import AppError
from tests.cloud.authorization_rules import ROLES
from tests.cloud.inventory_world import load, principal
from tests.cloud.sales_world import build_world

S, A = State, Action
MANAGERS = frozenset({"sales_manager"})
# What staff may do in the console, and who.
STAFF_MOVES: dict[tuple[State, Action], tuple[State, frozenset[str]]] = {
    (S.UNRELEASED, A.RELEASE): (S.AVAILABLE, MANAGERS),
    (S.AVAILABLE, A.WITHDRAW): (S.UNRELEASED, MANAGERS),
    (S.AVAILABLE, A.RESERVE): (S.RESERVED, MANAGERS),
    (S.RESERVED, A.UNRESERVE): (S.AVAILABLE, MANAGERS),
    (S.AVAILABLE, A.CONTROL): (S.CONTROLLED, MANAGERS),
    (S.RESERVED, A.CONTROL): (S.CONTROLLED, MANAGERS),
    (S.CONTROLLED, A.UNCONTROL): (S.AVAILABLE, MANAGERS),
    (S.CONTROLLED, A.RESERVE): (S.RESERVED, MANAGERS),
}
SYSTEM_MOVES = {(S.RESERVED, A.EXPIRE): S.AVAILABLE}
# The hooks the deals domain will call (认筹 / 认购 / 签约 / 交付 / 退房).
DEAL_MOVES = {
    (S.UNRELEASED, A.PLEDGE): S.PLEDGED, (S.AVAILABLE, A.PLEDGE): S.PLEDGED,
    (S.RESERVED, A.PLEDGE): S.PLEDGED, (S.AVAILABLE, A.SUBSCRIBE): S.SUBSCRIBED,
    (S.RESERVED, A.SUBSCRIBE): S.SUBSCRIBED, (S.PLEDGED, A.SUBSCRIBE): S.SUBSCRIBED,
    (S.SUBSCRIBED, A.SIGN): S.SIGNED, (S.SIGNED, A.DELIVER): S.DELIVERED,
    (S.PLEDGED, A.RETURN): S.AVAILABLE, (S.SUBSCRIBED, A.RETURN): S.AVAILABLE,
    (S.SIGNED, A.RETURN): S.AVAILABLE,
}


@pytest.fixture
def unit(db: Session, settings: CloudSettings) -> tuple[Unit, dict[str, Any]]:
    world = build_world(db, settings)
    project_id = world["site-a"].project_id
    units = load(db, principal(world["manager_a"], "sales_manager"), project_id, floors=1,
                 per_floor=1)
    # The walk covers the pledge of an unreleased unit where the project allows it.
    project_state.row(db, project_id).pledge_unreleased = True
    db.commit()
    return units[0], world


def _attempt(db: Session, unit: Unit, state: State, action: Action, driver: Driver,
             role: str | None, user_id: int) -> tuple[str, State | None]:
    """Put the unit in `state`, try the move, undo everything; the outcome and new state."""
    savepoint = db.begin_nested()
    try:
        db.execute(update(Unit).where(col(Unit.id) == unit.id).values(state=state.value))
        db.refresh(unit)
        who = principal(user_id, role) if role else None
        logged = db.exec(select(UnitLog).where(UnitLog.unit_id == unit.id)).all()
        try:
            log = transitions.apply(db, unit, transitions.Move(action, "走查"), principal=who,
                                    driver=driver)
        except AppError as refused:
            return refused.code, None
        after = db.exec(select(UnitLog).where(UnitLog.unit_id == unit.id)).all()
        assert len(after) == len(logged) + 1
        assert (log.from_state, log.action, log.actor_id) == (
            state.value, action.value, who.user_id if who else None)
        assert log.to_state == unit.state
        return "allowed", State(unit.state)
    finally:
        savepoint.rollback()


def test_every_staff_move_by_every_role(db: Session, unit: tuple[Unit, dict[str, Any]]) -> None:
    target, world = unit
    wrong = []
    for role, state, action in itertools.product(ROLES, State, Action):
        got = _attempt(db, target, state, action, Driver.STAFF, role, world["manager_a"])
        if (state, action) in STAFF_MOVES:
            to, roles = STAFF_MOVES[(state, action)]
            expected = ("allowed", to) if role in roles else (TransitionNotPermitted.code, None)
        elif (state, action) in DEAL_MOVES:
            expected = (TransitionByDeal.code, None)
        else:
            expected = (TransitionRefused.code, None)
        if got != expected:
            wrong.append(f"{role} {state}→{action}: expected {expected}, got {got}")
    assert wrong == []


@pytest.mark.parametrize("driver", [Driver.SYSTEM, Driver.DEAL])
def test_every_move_of_the_system_and_the_deals(
        db: Session, unit: tuple[Unit, dict[str, Any]], driver: Driver) -> None:
    target, world = unit
    allowed: dict[tuple[State, Action], State] = (
        SYSTEM_MOVES if driver == Driver.SYSTEM else DEAL_MOVES)
    wrong = []
    for state, action in itertools.product(State, Action):
        got = _attempt(db, target, state, action, driver, None, world["manager_a"])
        expected = (("allowed", allowed[(state, action)]) if (state, action) in allowed
                    else (got[0] if got[0] != "allowed" else "refused", None))
        if got != expected:
            wrong.append(f"{driver} {state}→{action}: expected {expected}, got {got}")
    assert wrong == []


def test_the_walk_counts_each_table_row(db: Session, unit: tuple[Unit, dict[str, Any]]
                                        ) -> None:
    """The table in code has exactly the hand-written rows (no extra move slipped in)."""
    from cloud.inventory.states import TRANSITIONS
    assert set(TRANSITIONS) == set(STAFF_MOVES) | set(SYSTEM_MOVES) | set(DEAL_MOVES)


def test_a_pledge_on_an_unreleased_unit_follows_the_setting(
        db: Session, unit: tuple[Unit, dict[str, Any]]) -> None:
    target, _ = unit
    stored = db.get(InventoryProject, target.project_id)
    assert stored is not None
    stored.pledge_unreleased = False
    db.commit()
    with pytest.raises(PledgeUnreleasedRefused):
        transitions.apply(db, target, transitions.Move(A.PLEDGE), principal=None,
                          driver=Driver.DEAL)


def test_control_without_a_reason_is_refused(db: Session, unit: tuple[Unit, dict[str, Any]]
                                             ) -> None:
    target, world = unit
    db.execute(update(Unit).where(col(Unit.id) == target.id).values(state=S.AVAILABLE.value))
    db.refresh(target)
    with pytest.raises(ReasonRequired):
        transitions.apply(db, target, transitions.Move(A.CONTROL, "  "),
                          principal=principal(world["manager_a"], "sales_manager"))
