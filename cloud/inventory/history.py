"""Reading the 销控 log."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from cloud.identity.models import User
from cloud.identity.principal import Principal
from cloud.inventory import scope
from cloud.inventory.models import Building, Unit, UnitLog


def page(session: Session, principal: Principal, project_id: int, *, unit_id: int | None,
         before_id: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages on."""
    scope.project(session, principal, project_id)
    query = (select(UnitLog, Unit.room, Building.name, User.display_name)
             .join(Unit, col(Unit.id) == UnitLog.unit_id)
             .join(Building, col(Building.id) == Unit.building_id)
             .outerjoin(User, col(User.id) == UnitLog.actor_id)
             .where(UnitLog.project_id == project_id))
    if unit_id is not None:
        query = query.where(UnitLog.unit_id == unit_id)
    if before_id is not None:
        query = query.where(col(UnitLog.id) < before_id)
    found = session.exec(query.order_by(col(UnitLog.id).desc()).limit(limit)).all()
    return [{"id": log.id, "unit_id": log.unit_id, "building": building, "room": room,
             "action": log.action, "from_state": log.from_state, "to_state": log.to_state,
             "actor_id": log.actor_id, "actor_name": actor or "系统", "reason": log.reason,
             "at": log.at} for log, room, building, actor in found]
