"""What a caller may reach: deals of projects in their sites; a consultant only the
documents they sell (their own or their customers')."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_

from cloud.catalog.models import Project
from cloud.deals.errors import CustomerNotFound, DealNotFound
from cloud.deals.models import Deal
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal
from cloud.sales.models import Customer


def sees_all(principal: Principal) -> bool:
    """Managers (approvers) and HQ see every document of their sites."""
    return principal.can(Perm.DEAL_APPROVE) or principal.can(Perm.DEAL_READ_ALL)


def mine(principal: Principal) -> ColumnElement[bool]:
    return or_(col(Deal.consultant_id) == principal.user_id,
               col(Deal.created_by) == principal.user_id)


def deal(session: Session, principal: Principal, deal_id: int, *,
         for_update: bool = False) -> Deal:
    found = session.get(Deal, deal_id, with_for_update=for_update)
    if found is None:
        raise DealNotFound()
    project = session.get(Project, found.project_id)
    if project is None or not principal.sees_site(project.site_id):
        raise DealNotFound()
    if not sees_all(principal) and principal.user_id not in (found.consultant_id,
                                                             found.created_by):
        raise DealNotFound()
    return found


def customer(session: Session, principal: Principal, customer_id: int, project_id: int,
             *, for_update: bool = False) -> Customer:
    """The buyer: a customer of the project; a consultant's own customer."""
    found = session.get(Customer, customer_id, with_for_update=for_update)
    if found is None or found.project_id != project_id:
        raise CustomerNotFound()
    if not sees_all(principal) and found.owner_id != principal.user_id:
        raise CustomerNotFound()
    return found
