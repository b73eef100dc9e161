"""Who sees which channel data: a broker their own referrals, an agency admin their
agency's, a channel manager (and HQ) the referrals of their sites' projects. A principal
with several roles sees the union."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.channel.errors import ProjectNotFound
from cloud.channel.models import Broker, Referral
from cloud.identity.deps import Principal

# Roles whose scope is their sites' projects (site scopes of the identity model).
PROJECT_SCOPED_ROLES = frozenset({"channel_manager", "hq_manager"})


def broker_of(session: Session, principal: Principal) -> Broker | None:
    return session.exec(select(Broker).where(Broker.user_id == principal.user_id)).first()


def admin_agency(session: Session, principal: Principal) -> int | None:
    """The agency an agency admin administers: the agency of their own active broker row."""
    if "agency_admin" not in principal.roles:
        return None
    broker = broker_of(session, principal)
    if broker is None or broker.status != "active":
        return None
    return broker.agency_id


def sees_all_brokers(principal: Principal) -> bool:
    # Brokers and agencies belong to no site: project-scoped staff manage all of them.
    return bool(principal.roles & PROJECT_SCOPED_ROLES)


def sees_project(session: Session, principal: Principal, project_id: int) -> bool:
    if not principal.roles & PROJECT_SCOPED_ROLES:
        return False
    project = session.get(Project, project_id)
    return project is not None and principal.sees_site(project.site_id)


def referral_scope(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The referrals `principal` may read, as a WHERE clause."""
    clauses: list[ColumnElement[bool]] = []
    if principal.roles & PROJECT_SCOPED_ROLES:
        if principal.site_ids is None:
            return col(Referral.id).is_not(None)
        projects = select(Project.id).where(col(Project.site_id).in_(principal.site_ids))
        clauses.append(col(Referral.project_id).in_(projects))
    agency_id = admin_agency(session, principal)
    if agency_id is not None:
        clauses.append(col(Referral.agency_id) == agency_id)
    if "broker" in principal.roles or "agency_admin" in principal.roles:
        own = broker_of(session, principal)
        if own is not None:
            clauses.append(col(Referral.broker_id) == own.id)
    return or_(*clauses) if clauses else false()


def in_sites(principal: Principal) -> ColumnElement[bool]:
    """The projects of the caller's sites, as a WHERE clause on Project."""
    if principal.site_ids is None:
        return true()
    return col(Project.site_id).in_(principal.site_ids)


def projects_in_scope(session: Session, principal: Principal, ids: Sequence[int]) -> list[int]:
    """`ids` (sorted, once each) when every one is a project of the caller's sites; else
    ProjectNotFound: one outside the scope is not revealed to exist."""
    wanted = sorted(set(ids))
    found = session.exec(select(Project.id).where(
        col(Project.id).in_(wanted), in_sites(principal))).all()
    if len(found) != len(wanted):
        raise ProjectNotFound()
    return wanted


def all_in_scope(session: Session, principal: Principal, ids: Sequence[int]) -> bool:
    """Whether the caller's sites hold every one of these (existing) projects."""
    if principal.site_ids is None:
        return True
    mine = session.exec(select(Project.id).where(
        col(Project.id).in_(ids), in_sites(principal))).all()
    return len(mine) == len(set(ids))


def require_project(session: Session, principal: Principal, project_id: int) -> None:
    """A project outside the caller's sites is not revealed to exist (404)."""
    if not sees_project(session, principal, project_id):
        raise ProjectNotFound()
