"""Login sessions: login, refresh-token rotation, logout, and resolving an access token
to a principal. Functions flush; the caller commits.

Audit rows are recorded as the last step of each function: on PostgreSQL recording takes
the chain's advisory lock until commit, and nothing slow should run while it is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlmodel import Session, select

from cloud.audit import service as audit_service
from cloud.identity import principal_cache, records, security
from cloud.identity.errors import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    NetworkNotAllowed,
    SessionExpired,
)
from cloud.identity.models import AuthSession, User, UserRole
from cloud.identity.networks import admin_outside
from cloud.identity.passwords import password_change_pending
from cloud.identity.permissions import permissions_of
from cloud.identity.principal import Principal
from cloud.identity.throttle import LoginThrottle
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, utcnow

# A session ends after this long however active it is; idleness ends it sooner.
SESSION_MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    must_change_password: bool
    principal: Principal


def login(
    session: Session,
    *,
    settings: CloudSettings,
    throttle: LoginThrottle,
    username: str,
    password: str,
    ip: str | None,
    user_agent: str = "",
) -> IssuedTokens:
    """Check the password and open a session.

    Rejections are RecordedRejection errors raised after their audit row is written; the
    caller must commit before answering. An unknown name and a wrong password take the
    same path through the throttle, so they lock alike. A second factor (等保 level 3)
    would be checked after the password and before the session is created.
    """
    name = records.normalise_username(username)
    now = utcnow()
    throttle.admit(name, ip)
    user = session.exec(select(User).where(User.username == name).with_for_update()).first()
    if user is None:
        security.burn_verification(password)
        _refuse(session, throttle, name, None, ip, reason="unknown_user")
    assert user.id is not None
    if not security.verify_password(user.password_hash, password):
        _refuse(session, throttle, name, user.id, ip, reason="bad_password")
    if not user.is_active:
        _audit_login(session, name, user.id, ip, "failure", reason="disabled")
        raise AccountDisabled()
    roles = session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all()
    if admin_outside(settings, roles, ip):
        _audit_login(session, name, user.id, ip, "failure", reason="network_not_allowed")
        raise NetworkNotAllowed()
    throttle.succeeded(name, ip)
    user.last_login_at = now
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    session.add(user)
    auth, refresh_token = _new_session(session, user.id, ip, user_agent, now)
    _audit_login(session, name, user.id, ip, "success", session_id=auth.id)
    return _issue(session, settings=settings, user=user, auth=auth,
                  refresh_token=refresh_token, ip=ip, now=now)


def sign_in(
    session: Session,
    *,
    settings: CloudSettings,
    user: User,
    method: str,
    ip: str | None,
    user_agent: str = "",
) -> IssuedTokens:
    """Open a session for a user whose identity another factor proved (an SMS code, a
    WeChat authorisation): the password steps of `login` are the caller's."""
    assert user.id is not None
    if not user.is_active:
        _audit_login(session, user.username, user.id, ip, "failure", reason="disabled",
                     method=method)
        raise AccountDisabled()
    roles = session.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all()
    if admin_outside(settings, roles, ip):
        _audit_login(session, user.username, user.id, ip, "failure",
                     reason="network_not_allowed", method=method)
        raise NetworkNotAllowed()
    now = utcnow()
    user.last_login_at = now
    session.add(user)
    auth, refresh_token = _new_session(session, user.id, ip, user_agent, now)
    _audit_login(session, user.username, user.id, ip, "success", session_id=auth.id,
                 method=method)
    return _issue(session, settings=settings, user=user, auth=auth,
                  refresh_token=refresh_token, ip=ip, now=now)


def _new_session(session: Session, user_id: int, ip: str | None, user_agent: str,
                 now: datetime) -> tuple[AuthSession, str]:
    refresh_token = security.new_refresh_token()
    auth = AuthSession(
        id=security.new_session_id(),
        user_id=user_id,
        refresh_hash=security.refresh_token_hash(refresh_token),
        ip=ip,
        user_agent=user_agent[:200],
        created_at=now,
        last_used_at=now,
        expires_at=now + SESSION_MAX_AGE,
    )
    session.add(auth)
    session.flush()
    return auth, refresh_token


def _refuse(
    session: Session, throttle: LoginThrottle, name: str, user_id: int | None,
    ip: str | None, *, reason: str,
) -> NoReturn:
    lock_seconds = throttle.failed(name, ip)
    _audit_login(session, name, user_id, ip, "failure", reason=reason,
                 locked=lock_seconds is not None, lock_seconds=lock_seconds)
    if lock_seconds is not None:
        raise AccountLocked(lock_seconds)
    raise InvalidCredentials()


def refresh(
    session: Session, *, settings: CloudSettings, refresh_token: str, ip: str | None,
    background: bool = False,
) -> IssuedTokens:
    """Rotate the refresh token. A rotated-out token coming back means it was copied: the
    session is revoked, so neither the thief nor the owner can continue with it."""
    now = utcnow()
    token_hash = security.refresh_token_hash(refresh_token)
    auth = session.exec(
        select(AuthSession).where(AuthSession.refresh_hash == token_hash).with_for_update()
    ).first()
    if auth is None:
        reused = session.exec(
            select(AuthSession)
            .where(AuthSession.prev_refresh_hash == token_hash)
            .with_for_update()
        ).first()
        if reused is not None and reused.revoked_at is None:
            _end_session(session, reused, reason="token_reuse", ip=ip, now=now)
        raise SessionExpired()
    if auth.revoked_at is not None:
        raise SessionExpired()
    if as_utc(auth.expires_at) <= now:
        _end_session(session, auth, reason="expired", ip=ip, now=now)
        raise SessionExpired()
    if now - as_utc(auth.last_used_at) > timedelta(minutes=settings.session_idle_minutes):
        _end_session(session, auth, reason="idle", ip=ip, now=now)
        raise SessionExpired(
            f"超过 {settings.session_idle_minutes} 分钟未操作，登录已超时，请重新登录"
        )
    user = session.get(User, auth.user_id)
    if user is None or not user.is_active:
        _end_session(session, auth, reason="disabled", ip=ip, now=now)
        raise AccountDisabled()
    new_token = security.new_refresh_token()
    auth.prev_refresh_hash = auth.refresh_hash
    auth.refresh_hash = security.refresh_token_hash(new_token)
    if not background:  # a poll's refresh is no user action (shared.activity)
        auth.last_used_at = now
    session.add(auth)
    session.flush()
    return _issue(session, settings=settings, user=user, auth=auth,
                  refresh_token=new_token, ip=ip, now=now)


def logout(session: Session, *, principal: Principal) -> None:
    auth = session.get(AuthSession, principal.session_id) if principal.session_id else None
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = utcnow()
        auth.revoke_reason = "logout"
        session.add(auth)
        session.flush()
        principal_cache.session_ended(session, auth.id)
    audit_service.record(
        session, action="auth.logout", principal=principal, object_type="user",
        object_id=str(principal.user_id), detail={"session_id": principal.session_id},
    )


def load_principal(
    session: Session, *, user: User, ip: str | None, session_id: str | None = None
) -> Principal:
    view = records.views(session, [user])[0]
    assert user.id is not None
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=view.roles,
        permissions=permissions_of(view.roles),
        site_ids=None if user.scope_all else view.site_ids,
        ip=ip,
        session_id=session_id,
    )


def _issue(
    session: Session,
    *,
    settings: CloudSettings,
    user: User,
    auth: AuthSession,
    refresh_token: str,
    ip: str | None,
    now: datetime,
) -> IssuedTokens:
    principal = load_principal(session, user=user, ip=ip, session_id=auth.id)
    pending = password_change_pending(settings, user, now)
    access = security.issue_access_token(
        settings, user_id=principal.user_id, username=user.username, roles=principal.roles,
        session_id=auth.id, pwd_change=pending, now=now,
    )
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=settings.access_token_minutes * 60,
        must_change_password=pending,
        principal=principal,
    )


def _audit_login(
    session: Session,
    username: str,
    user_id: int | None,
    ip: str | None,
    result: str,
    **detail: object,
) -> None:
    audit_service.record(
        session, action="auth.login", result=result, actor=username, actor_id=user_id, ip=ip,
        object_type="user", object_id=str(user_id) if user_id is not None else "",
        detail=dict(detail),
    )


def _end_session(
    session: Session, auth: AuthSession, *, reason: str, ip: str | None, now: datetime
) -> None:
    auth.revoked_at = now
    auth.revoke_reason = reason
    session.add(auth)
    session.flush()
    principal_cache.session_ended(session, auth.id)
    user = session.get(User, auth.user_id)
    audit_service.record(
        session, action="auth.refresh", result="failure",
        actor=user.username if user else "", actor_id=auth.user_id, ip=ip,
        object_type="user", object_id=str(auth.user_id),
        detail={"reason": reason, "session_id": auth.id},
    )
