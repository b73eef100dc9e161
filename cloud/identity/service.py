"""The identity domain's service surface, one import for the routes and other domains.

The rules live by concern: accounts.py (users), assignments.py (roles and scopes),
passwords.py, sessions.py (login, refresh, logout); access.py resolves a token to its
principal on every request. Functions flush;
the caller commits.
"""

from __future__ import annotations

from cloud.identity.accounts import (
    UserPage,
    create_user,
    disable_inactive,
    get_user,
    list_users,
    reset_password,
    update_user,
)
from cloud.identity.assignments import set_roles, set_scopes
from cloud.identity.passwords import change_password, password_change_pending
from cloud.identity.records import UserView
from cloud.identity.sessions import (
    IssuedTokens,
    load_principal,
    login,
    logout,
    refresh,
    sign_in,
)

__all__ = [
    "IssuedTokens",
    "UserPage",
    "UserView",
    "change_password",
    "create_user",
    "disable_inactive",
    "get_user",
    "list_users",
    "load_principal",
    "login",
    "logout",
    "password_change_pending",
    "refresh",
    "reset_password",
    "set_roles",
    "set_scopes",
    "sign_in",
    "update_user",
]
