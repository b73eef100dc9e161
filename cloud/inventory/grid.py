"""The 销控表: a project's buildings, their floors and units, coloured by state."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.identity.principal import Principal
from cloud.inventory import project_state, scope
from cloud.inventory.errors import ProjectNotFound
from cloud.inventory.models import Building, InventoryProject, Unit
from cloud.inventory.states import RELEASED_STATES, STATE_NAMES


@dataclass(frozen=True)
class GridVersion:
    project_id: int
    version: int
    full: bool  # unreleased units and floor prices included

    @property
    def etag(self) -> str:
        return f'W/"inv-{self.project_id}-{self.version}-{"a" if self.full else "r"}"'


# The project's site (for the caller's scope) and its grid version in one statement: the
# 销控表 is polled every few seconds by every open console and phone (issue #22 Measure).
_VERSION = (sa_select(col(Project.site_id), col(InventoryProject.version))
            .select_from(Project)
            .outerjoin(InventoryProject, col(InventoryProject.project_id) == col(Project.id))
            .where(col(Project.id) == bindparam("project_id")))


def version(session: Session, principal: Principal, project_id: int) -> GridVersion:
    """The grid's version as this caller sees it: one indexed read, so a poll that finds
    nothing new costs no more."""
    found = session.execute(_VERSION, {"project_id": project_id}).first()
    if found is None:
        raise ProjectNotFound()
    scope.require_site(principal, found.site_id)
    current = found.version
    if current is None:  # the project's first look at its grid
        current = project_state.row(session, project_id).version
    return GridVersion(project_id, current, scope.sees_unreleased(principal))


def read(session: Session, principal: Principal, project_id: int) -> dict[str, Any]:
    current = version(session, principal, project_id)
    stored = project_state.row(session, project_id)
    query = select(Unit).where(Unit.project_id == project_id)
    if not current.full:
        query = query.where(col(Unit.state).in_([s.value for s in RELEASED_STATES]))
    units = session.exec(query.order_by(col(Unit.building_id), col(Unit.floor).desc(),
                                        col(Unit.room))).all()
    by_building: dict[int, dict[int, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for unit in units:
        by_building[unit.building_id][unit.floor].append(_cell(unit, full=current.full))
    buildings = session.exec(select(Building).where(Building.project_id == project_id)
                             .order_by(col(Building.name))).all()
    return {
        "project_id": project_id, "version": current.version, "full": current.full,
        "colours": project_state.colours(stored),
        "states": [{"code": s.value, "name": n} for s, n in STATE_NAMES.items()],
        "buildings": [{"id": b.id, "name": b.name, "floors": [
            {"floor": floor, "units": cells}
            for floor, cells in by_building[b.id or 0].items()]}
            for b in buildings if b.id in by_building],
    }


def _cell(unit: Unit, *, full: bool) -> dict[str, Any]:
    return {"id": unit.id, "room": unit.room, "floor": unit.floor, "layout": unit.layout,
            "area_centi": unit.area_centi, "list_price_fen": unit.list_price_fen,
            # 底价 is the managers' discount floor: a consultant has no discount authority.
            "floor_price_fen": unit.floor_price_fen if full else None,
            "state": unit.state, "hold_until": unit.hold_until,
            "control_reason": unit.control_reason if full else "",
            "batch_id": unit.batch_id}
