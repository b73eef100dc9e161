"""Managers and consultants acting on the same units at the same instant, each in their
own transaction on the real PostgreSQL: exactly one move wins, the rest are told why, and
the grid's version counts every change."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.identity.models import User
from cloud.identity.principal import Principal
from cloud.inventory import holds, project_state, releases, scope, transitions
from cloud.inventory.models import InventoryProject, UnitHold, UnitLog
from cloud.inventory.states import Action
from cloud.settings import CloudSettings
from shared.errors import AppError
from tests.cloud.inventory_world import load, principal
from tests.cloud.sales_world import build_world

RACERS = 12


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> dict[str, Any]:
    world = build_world(db, settings)
    project_id = world["site-a"].project_id
    manager = principal(world["manager_a"], "sales_manager")
    units = load(db, manager, project_id, floors=RACERS, per_floor=1)
    ids = [u.id or 0 for u in units]
    releases.release(db, manager, project_id=project_id, name="首开", kind="first_opening",
                     unit_ids=ids)
    db.commit()
    managers = [principal(_user(db, f"race.m{i}"), "sales_manager") for i in range(RACERS)]
    consultants = [principal(_user(db, f"race.c{i}"), "consultant") for i in range(RACERS)]
    return {"project_id": project_id, "units": ids, "managers": managers,
            "consultants": consultants}


def _user(db: Session, username: str) -> int:
    """A row for the log's and the hold's actor (the principal carries the role)."""
    user = User(username=username, password_hash="-", display_name=username)
    db.add(user)
    db.commit()
    assert user.id is not None
    return user.id


def _race(engine: Engine, who: list[Principal],
          act: Callable[[Session, Principal, int], object]) -> Counter[str]:
    start = threading.Barrier(len(who))

    def one(pair: tuple[int, Principal]) -> str:
        index, person = pair
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            try:
                act(session, person, index)
                session.commit()
                return "won"
            except AppError as refused:
                session.rollback()
                return refused.code

    with ThreadPoolExecutor(max_workers=len(who)) as pool:
        return Counter(pool.map(one, enumerate(who)))


def test_managers_holding_one_unit_at_once_one_wins(
        db: Session, engine: Engine, office: dict[str, Any]) -> None:
    unit_id = office["units"][0]

    def control(session: Session, manager: Principal, index: int) -> object:
        unit = scope.unit(session, manager, unit_id, for_update=True)
        return transitions.apply(session, unit, transitions.Move(
            Action.CONTROL, f"经理{index}"), principal=manager)

    answers = _race(engine, office["managers"], control)
    assert answers == {"won": 1, "unit_transition_refused": RACERS - 1}
    db.rollback()
    logs = db.exec(select(UnitLog).where(UnitLog.unit_id == unit_id,
                                         UnitLog.action == "control")).all()
    assert len(logs) == 1


def test_a_read_unit_moved_meanwhile_is_refused_not_overwritten(
        db: Session, engine: Engine, office: dict[str, Any]) -> None:
    """Without the row lock (a caller that read the unit earlier), the compare-and-set
    still lets only one move through."""
    unit_id = office["units"][1]

    def control(session: Session, manager: Principal, index: int) -> object:
        unit = scope.unit(session, manager, unit_id)
        return transitions.apply(session, unit, transitions.Move(
            Action.CONTROL, f"经理{index}"), principal=manager)

    answers = _race(engine, office["managers"], control)
    assert answers["won"] == 1
    assert set(answers) <= {"won", "unit_state_changed", "unit_transition_refused"}


def test_consultants_asking_for_one_unit_at_once_one_request_waits(
        db: Session, engine: Engine, office: dict[str, Any]) -> None:
    unit_id = office["units"][2]

    def ask(session: Session, consultant: Principal, index: int) -> object:
        return holds.request(session, consultant, holds.HoldRequest(
            unit_id=unit_id, reason=f"顾问{index}的客户", days=1))

    answers = _race(engine, office["consultants"], ask)
    assert answers == {"won": 1, "hold_already_pending": RACERS - 1}
    db.rollback()
    assert len(db.exec(select(UnitHold).where(UnitHold.unit_id == unit_id)).all()) == 1


def test_every_concurrent_change_moves_the_grid_version(
        db: Session, engine: Engine, office: dict[str, Any]) -> None:
    db.rollback()
    before = project_state.row(db, office["project_id"]).version

    def control(session: Session, manager: Principal, index: int) -> object:
        unit = scope.unit(session, manager, office["units"][index], for_update=True)
        return transitions.apply(session, unit, transitions.Move(Action.CONTROL, "各自的房"),
                                 principal=manager)

    assert _race(engine, office["managers"], control) == {"won": RACERS}
    db.rollback()
    stored = db.get(InventoryProject, office["project_id"], populate_existing=True)
    assert stored is not None and stored.version == before + RACERS
