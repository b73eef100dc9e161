"""Separation of the three administrators (等保二级 三员分立), as rules on who may act on
which account. No path may let one administrator act as another: whoever learns a
password that someone else will use, or changes what an administrator may do, is the
security administrator — and a password of an administrator is never set by another
person through the API at all.
"""

from __future__ import annotations

from cloud.identity.errors import (
    AdminAccountProtected,
    AdminPasswordResetRefused,
    AdminPersonalDataNeedsGrant,
    AdminRoleNeedsOwnPassword,
)
from cloud.identity.models import User
from cloud.identity.permissions import ADMIN_ROLES, Perm, personal_data_roles
from cloud.identity.principal import Principal
from shared.errors import Forbidden


def check_role_set(roles: frozenset[str], *, personal_data_grant: bool) -> None:
    """An administrator with a role that unmasks personal data only by explicit grant."""
    unmasking = personal_data_roles(roles)
    if roles & ADMIN_ROLES and unmasking and not personal_data_grant:
        raise AdminPersonalDataNeedsGrant(extra={"roles": sorted(unmasking)})


def check_admin_grant(user: User, before: frozenset[str], after: frozenset[str]) -> None:
    """A new administrator role goes only to an account whose password its holder chose:
    whoever set the initial password (a system administrator) must not hold the keys."""
    if (after - before) & ADMIN_ROLES and user.must_change_password:
        raise AdminRoleNeedsOwnPassword()


def check_account_authority(principal: Principal, target_roles: frozenset[str]) -> None:
    """Disable, enable or rename: administrators' accounts by the security administrator,
    everyone else's by the system administrator."""
    if target_roles & ADMIN_ROLES:
        if not principal.can(Perm.ADMIN_ACCOUNT_MANAGE):
            raise AdminAccountProtected()
    elif not principal.can(Perm.USER_MANAGE):
        raise Forbidden(extra={"missing_permissions": [Perm.USER_MANAGE.value]})


def check_password_reset(target_roles: frozenset[str]) -> None:
    """The one who resets learns the new password, and could sign in as the target."""
    if target_roles & ADMIN_ROLES:
        raise AdminPasswordResetRefused()
