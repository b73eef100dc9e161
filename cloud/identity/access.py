"""Resolving an access token to a principal: the work every authenticated request does.

The rules: the token's login session exists, belongs to the token's user, is neither
revoked, past its maximum age nor idle too long, and the user is active. They are
checked on every request, from a cached login (principal_cache) or from one query that
reads the session, the user, the roles and the scopes together. The session's last use
is written at most once per TOUCH_INTERVAL, and only from fresh database rows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session, col

from cloud.identity import security
from cloud.identity.errors import AccountDisabled, NetworkNotAllowed, NotAuthenticated
from cloud.identity.models import AuthSession, User, UserRole, UserScope
from cloud.identity.networks import admin_outside
from cloud.identity.permissions import permissions_of
from cloud.identity.principal import Principal
from cloud.identity.principal_cache import CachedLogin, PrincipalCache
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, utcnow

# Requests refresh a session's last use at most this often, to keep reads from writing.
TOUCH_INTERVAL = timedelta(seconds=60)
# Verified tokens kept per process; at the bound the set starts again.
MAX_TOKENS = 100_000
TOKEN_LEEWAY = timedelta(seconds=5)  # the leeway decode_access_token allows
# Unit separator: no role code or site id can contain it.
_SEP = "\x1f"


def password_due(
    settings: CloudSettings, *, must_change: bool, changed_at: datetime, now: datetime
) -> bool:
    if must_change:
        return True
    if settings.password_expiry_days == 0:
        return False
    return now - as_utc(changed_at) >= timedelta(days=settings.password_expiry_days)


def authenticate(
    session: Session, *, settings: CloudSettings, cache: PrincipalCache, token: str,
    ip: str | None, background: bool = False,
) -> Principal:
    """The principal of a valid access token. Raises NotAuthenticated / AccountDisabled.
    A `background` request (the apps' own polling) never counts as the user's activity."""
    claims = claims_of(settings, cache, token)
    now = utcnow()
    login = cache.get(claims.session_id)
    # A cached login near its idle limit may have been used through another process
    # since: only fresh rows may refuse it.
    if login is None or not _live(settings, login, now):
        generation = cache.generation()
        login = _load(session, claims.session_id)
        if login is None or not _live(settings, login, now):
            raise NotAuthenticated("登录已失效，请重新登录")
        if not background and now - as_utc(login.last_used_at) > TOUCH_INTERVAL:
            session.exec(update(AuthSession)
                         .where(col(AuthSession.id) == claims.session_id)
                         .values(last_used_at=now))
            login = replace(login, last_used_at=now)
        if login.active:
            cache.put(claims.session_id, login, generation)
    return _principal(settings, login, claims.user_id, ip)


def _principal(settings: CloudSettings, login: CachedLogin, user_id: int, ip: str | None
               ) -> Principal:
    if login.principal.user_id != user_id:
        raise NotAuthenticated("登录已失效，请重新登录")
    if not login.active:
        raise AccountDisabled()
    if admin_outside(settings, login.principal.roles, ip):
        raise NetworkNotAllowed(user_id=user_id, username=login.principal.username)
    due = password_due(settings, must_change=login.must_change_password,
                       changed_at=login.password_changed_at, now=utcnow())
    return replace(login.principal, ip=ip, password_change_due=due)


def claims_of(settings: CloudSettings, cache: PrincipalCache, token: str
              ) -> security.AccessClaims:
    claims = cache.tokens.get(token)
    if claims is None:
        claims = security.decode_access_token(settings, token)
        if len(cache.tokens) >= MAX_TOKENS:
            cache.tokens.clear()
        cache.tokens[token] = claims
    elif claims.expires_at + TOKEN_LEEWAY <= utcnow():
        raise NotAuthenticated("登录凭证无效或已过期，请重新登录")
    return claims


def from_cache(
    *, settings: CloudSettings, cache: PrincipalCache, token: str, ip: str | None
) -> Principal | None:
    """The principal from a cached login that is still live, else None (authenticate then
    decides, from the database). No I/O: safe on the event loop."""
    claims = claims_of(settings, cache, token)
    login = cache.get(claims.session_id)
    if login is None or not _live(settings, login, utcnow()):
        return None
    return _principal(settings, login, claims.user_id, ip)


def _live(settings: CloudSettings, login: CachedLogin, now: datetime) -> bool:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return as_utc(login.expires_at) > now and now - as_utc(login.last_used_at) <= idle


def _aggregate(column: Mapped[str], user_column: Mapped[int]) -> ScalarSelect[str]:
    return (
        sa_select(func.aggregate_strings(column, _SEP))
        .where(user_column == col(AuthSession.user_id))
        .scalar_subquery()
    )


_LOGIN_COLUMNS: tuple[ColumnElement[Any] | Mapped[Any], ...] = (
    col(AuthSession.user_id), col(AuthSession.expires_at), col(AuthSession.last_used_at),
    col(User.username), col(User.display_name), col(User.is_active), col(User.scope_all),
    col(User.must_change_password), col(User.password_changed_at),
    _aggregate(col(UserRole.role), col(UserRole.user_id)).label("roles"),
    _aggregate(col(UserScope.site_id), col(UserScope.user_id)).label("sites"),
)


def _load(session: Session, session_id: str) -> CachedLogin | None:
    """One query: the unrevoked login session, its user, roles and scopes."""
    # Plain columns, not ORM objects: nothing of this lands in the request's identity map.
    row = session.connection().execute(
        sa_select(*_LOGIN_COLUMNS)
        .join(User, col(User.id) == AuthSession.user_id)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
    ).first()
    if row is None:
        return None
    (user_id, expires_at, last_used_at, username, display_name, is_active, scope_all,
     must_change, changed_at, roles_text, sites_text) = row
    roles = frozenset(roles_text.split(_SEP)) if roles_text else frozenset[str]()
    sites = frozenset(sites_text.split(_SEP)) if sites_text else frozenset[str]()
    principal = Principal(
        user_id=user_id, username=username, display_name=display_name, roles=roles,
        permissions=permissions_of(roles), site_ids=None if scope_all else sites, ip=None,
        session_id=session_id,
    )
    return CachedLogin(principal, is_active, expires_at, last_used_at, must_change,
                       changed_at)
