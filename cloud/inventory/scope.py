"""What a caller may reach: projects of the sites in their scope, and their units."""

from __future__ import annotations

from sqlmodel import Session

from cloud.catalog.models import Project
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal
from cloud.inventory.errors import ProjectNotFound, UnitNotFound
from cloud.inventory.models import Unit
from cloud.inventory.states import RELEASED_STATES


def project(session: Session, principal: Principal, project_id: int) -> Project:
    found = session.get(Project, project_id)
    if found is None:
        raise ProjectNotFound()
    require_site(principal, found.site_id)
    return found


def require_site(principal: Principal, site_id: str) -> None:
    """A project of a site outside the caller's scope does not exist for them."""
    if not principal.sees_site(site_id):
        raise ProjectNotFound()


def sees_unreleased(principal: Principal) -> bool:
    return principal.can(Perm.INVENTORY_READ_ALL)


def unit(session: Session, principal: Principal, unit_id: int, *,
         for_update: bool = False) -> Unit:
    """A unit of a project in scope; an unreleased one only for those who see them (to
    others it does not exist)."""
    found = session.get(Unit, unit_id, with_for_update=for_update)
    if found is None:
        raise UnitNotFound()
    try:
        project(session, principal, found.project_id)
    except ProjectNotFound:
        raise UnitNotFound() from None
    if found.state not in RELEASED_STATES and not sees_unreleased(principal):
        raise UnitNotFound()
    return found
