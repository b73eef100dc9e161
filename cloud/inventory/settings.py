"""A project's inventory settings: the grid's colours and the rules page's numbers."""

from __future__ import annotations

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.identity.principal import Principal
from cloud.inventory import project_state, scope
from cloud.inventory.models import InventoryProject


def update(session: Session, principal: Principal, project_id: int, *,
           colours: dict[str, str], reserve_max_days: int,
           pledge_unreleased: bool) -> InventoryProject:
    scope.project(session, principal, project_id)
    stored = project_state.row(session, project_id)
    before = {"colours": project_state.colours(stored),
              "reserve_max_days": stored.reserve_max_days,
              "pledge_unreleased": stored.pledge_unreleased}
    stored.colours = {**project_state.colours(stored), **colours}
    stored.reserve_max_days = reserve_max_days
    stored.pledge_unreleased = pledge_unreleased
    session.add(stored)
    session.flush()
    # The colours are part of the grid: watchers reload it.
    project_state.bump(session, project_id)
    audit_service.record(session, action="inventory.settings", principal=principal,
                         object_type="project", object_id=str(project_id),
                         detail={"before": before, "colours": colours,
                                 "reserve_max_days": reserve_max_days,
                                 "pledge_unreleased": pledge_unreleased})
    session.flush()
    session.refresh(stored)
    return stored
