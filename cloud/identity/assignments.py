"""Roles and data scopes: who holds which role and sees which sites. Functions flush;
the caller commits."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Site
from cloud.identity import duties, principal_cache, records
from cloud.identity.errors import RoleConflict, SelfChangeRefused, UnknownRole, UnknownSite
from cloud.identity.models import UserRole, UserScope
from cloud.identity.permissions import ADMIN_ROLES, ROLE_PERMISSIONS, personal_data_roles
from cloud.identity.principal import Principal
from cloud.identity.records import UserView

# Separation of duties (等保二级): the system, security and audit administrators are three
# people; whoever audits must not administer what is audited, and whoever grants roles
# must not also run the system.
ROLE_CONFLICTS = (frozenset({"audit_admin", "sys_admin"}),
                  frozenset({"audit_admin", "security_admin"}),
                  frozenset({"sys_admin", "security_admin"}))


def set_roles(
    session: Session,
    *,
    principal: Principal,
    user_id: int,
    roles: Iterable[str],
    personal_data_grant: bool = False,
) -> UserView:
    """Replace the user's roles. `personal_data_grant` is the security administrator's
    explicit, audited consent to an administrator also holding a role that unmasks
    personal data."""
    if user_id == principal.user_id:
        raise SelfChangeRefused("不能修改自己的角色")
    user = records.get_for_update(session, user_id)
    new = valid_roles(roles)
    old = records.roles_of(session, user_id)
    duties.check_role_set(new, personal_data_grant=personal_data_grant)
    duties.check_admin_grant(user, old, new)
    detail: dict[str, object] = {"before": sorted(old), "after": sorted(new)}
    if personal_data_grant and new & ADMIN_ROLES and personal_data_roles(new):
        detail["personal_data_grant"] = sorted(personal_data_roles(new))
    session.exec(delete(UserRole).where(col(UserRole.user_id) == user_id))
    session.add_all([UserRole(user_id=user_id, role=r) for r in sorted(new)])
    session.flush()
    principal_cache.user_changed(session, user_id)
    audit_service.record(
        session, action="user.roles", principal=principal, object_type="user",
        object_id=str(user_id), detail=detail,
    )
    return records.views(session, [user])[0]


def set_scopes(
    session: Session,
    *,
    principal: Principal,
    user_id: int,
    site_ids: Iterable[str],
    scope_all: bool,
) -> UserView:
    if user_id == principal.user_id:
        raise SelfChangeRefused("不能修改自己的数据范围")
    user = records.get_for_update(session, user_id)
    new = valid_sites(session, site_ids)
    old = frozenset(
        session.exec(select(UserScope.site_id).where(UserScope.user_id == user_id)).all()
    )
    before = {"scope_all": user.scope_all, "site_ids": sorted(old)}
    session.exec(delete(UserScope).where(col(UserScope.user_id) == user_id))
    session.add_all([UserScope(user_id=user_id, site_id=s) for s in sorted(new)])
    user.scope_all = scope_all
    session.add(user)
    session.flush()
    principal_cache.user_changed(session, user_id)
    audit_service.record(
        session, action="user.scopes", principal=principal, object_type="user",
        object_id=str(user_id),
        detail={"before": before, "after": {"scope_all": scope_all, "site_ids": sorted(new)}},
    )
    return records.views(session, [user])[0]


def valid_roles(roles: Iterable[str]) -> frozenset[str]:
    role_set = frozenset(roles)
    unknown = sorted(role_set - ROLE_PERMISSIONS.keys())
    if unknown:
        raise UnknownRole(f"角色不存在：{'、'.join(unknown)}", extra={"roles": unknown})
    for conflict in ROLE_CONFLICTS:
        if conflict <= role_set:
            raise RoleConflict()
    return role_set


def valid_sites(session: Session, site_ids: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(site_ids)
    if not wanted:
        return wanted
    found = set(session.exec(select(Site.id).where(col(Site.id).in_(wanted))).all())
    missing = sorted(wanted - found)
    if missing:
        raise UnknownSite(f"案场不存在：{'、'.join(missing)}", extra={"site_ids": missing})
    return wanted
