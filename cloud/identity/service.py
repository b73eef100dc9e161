"""Users, login sessions and passwords. Functions flush; the caller commits.

Audit rows are recorded as the last step of each function: on PostgreSQL recording takes
the chain's advisory lock until commit, and nothing slow should run while it is held.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Site
from cloud.identity import access, principal_cache, security
from cloud.identity.errors import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    InvalidOldPassword,
    InvalidUsername,
    PasswordReused,
    RoleConflict,
    SelfChangeRefused,
    SessionExpired,
    UnknownRole,
    UnknownSite,
    UsernameTaken,
    UserNotFound,
)
from cloud.identity.models import AuthSession, PasswordHistory, User, UserRole, UserScope
from cloud.identity.permissions import ROLE_PERMISSIONS, permissions_of
from cloud.identity.principal import Principal
from cloud.settings import CloudSettings
from shared.errors import ValidationFailed
from shared.timeutil import as_utc, utcnow

# A session ends after this long however active it is; idleness ends it sooner.
SESSION_MAX_AGE = timedelta(hours=12)
INACTIVE_DISABLE_DAYS = 90
# Separation of duties (等保二级): the system, security and audit administrators are three
# people; whoever audits must not administer what is audited, and whoever grants roles
# must not also run the system.
ROLE_CONFLICTS = (frozenset({"audit_admin", "sys_admin"}),
                  frozenset({"audit_admin", "security_admin"}),
                  frozenset({"sys_admin", "security_admin"}))
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{2,63}")


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    must_change_password: bool
    principal: Principal


@dataclass(frozen=True)
class UserView:
    user: User
    roles: frozenset[str]
    site_ids: frozenset[str]


@dataclass(frozen=True)
class UserPage:
    items: list[UserView]
    next_cursor: int | None


# ---------------------------------------------------------------- users


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    display_name: str,
    roles: Iterable[str],
    site_ids: Iterable[str],
    scope_all: bool = False,
    must_change_password: bool = True,
    principal: Principal | None = None,
    actor: str | None = None,
    ip: str | None = None,
) -> User:
    """Create an account. `principal` (console) or `actor` (e.g. "cli") is audited."""
    name = normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise InvalidUsername()
    role_set = _valid_roles(roles)
    sites = _valid_sites(session, site_ids)
    security.check_password_policy(password, username=name)
    if session.exec(select(User.id).where(User.username == name)).first() is not None:
        raise UsernameTaken(f"用户名“{name}”已存在")
    password_hash = security.hash_password(password)
    user = User(
        username=name,
        password_hash=password_hash,
        display_name=display_name.strip() or name,
        scope_all=scope_all,
        must_change_password=must_change_password,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create won the race for the name
        raise UsernameTaken(f"用户名“{name}”已存在") from exc
    assert user.id is not None
    session.add_all([UserRole(user_id=user.id, role=r) for r in sorted(role_set)])
    session.add_all([UserScope(user_id=user.id, site_id=s) for s in sorted(sites)])
    session.add(PasswordHistory(user_id=user.id, password_hash=password_hash))
    session.flush()
    audit_service.record(
        session, action="user.create", principal=principal, actor=actor, ip=ip,
        object_type="user", object_id=str(user.id),
        detail={"username": name, "roles": sorted(role_set), "site_ids": sorted(sites),
                "scope_all": scope_all, "must_change_password": must_change_password},
    )
    return user


def get_user(session: Session, *, user_id: int) -> UserView:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return _views(session, [user])[0]


def list_users(
    session: Session,
    *,
    cursor: int | None = None,
    limit: int = 50,
    query: str | None = None,
    is_active: bool | None = None,
) -> UserPage:
    """Oldest first; `cursor` is the id of the last user of the previous page."""
    stmt = select(User).order_by(col(User.id)).limit(limit + 1)
    if cursor is not None:
        stmt = stmt.where(col(User.id) > cursor)
    if query:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query.strip()) + "%"
        stmt = stmt.where(or_(col(User.username).ilike(pattern, escape="\\"),
                              col(User.display_name).ilike(pattern, escape="\\")))
    if is_active is not None:
        stmt = stmt.where(User.is_active == is_active)
    users = list(session.exec(stmt).all())
    next_cursor = users[limit - 1].id if len(users) > limit else None
    return UserPage(items=_views(session, users[:limit]), next_cursor=next_cursor)


def update_user(
    session: Session,
    *,
    principal: Principal,
    user_id: int,
    display_name: str | None = None,
    is_active: bool | None = None,
) -> UserView:
    user = _get_for_update(session, user_id)
    changes: dict[str, list[object]] = {}
    if display_name is not None:
        name = display_name.strip()
        if not name:
            raise ValidationFailed("姓名不能为空")
        if name != user.display_name:
            changes["display_name"] = [user.display_name, name]
            user.display_name = name
    if is_active is not None and is_active != user.is_active:
        if user.id == principal.user_id:
            raise SelfChangeRefused("不能停用或启用自己的账号")
        changes["is_active"] = [user.is_active, is_active]
        user.is_active = is_active
        if not is_active:
            _revoke_sessions(session, user_id=user_id, reason="disabled")
    session.add(user)
    session.flush()
    if changes:
        principal_cache.user_changed(session, user_id)
        audit_service.record(
            session, action="user.update", principal=principal,
            object_type="user", object_id=str(user_id), detail={"changes": changes},
        )
    return get_user(session, user_id=user_id)


def set_roles(
    session: Session, *, principal: Principal, user_id: int, roles: Iterable[str]
) -> UserView:
    if user_id == principal.user_id:
        raise SelfChangeRefused("不能修改自己的角色")
    _get_for_update(session, user_id)
    new = _valid_roles(roles)
    old = frozenset(session.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all())
    session.exec(delete(UserRole).where(col(UserRole.user_id) == user_id))
    session.add_all([UserRole(user_id=user_id, role=r) for r in sorted(new)])
    session.flush()
    principal_cache.user_changed(session, user_id)
    audit_service.record(
        session, action="user.roles", principal=principal, object_type="user",
        object_id=str(user_id), detail={"before": sorted(old), "after": sorted(new)},
    )
    return get_user(session, user_id=user_id)


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
    user = _get_for_update(session, user_id)
    new = _valid_sites(session, site_ids)
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
    return get_user(session, user_id=user_id)


def reset_password(
    session: Session,
    *,
    settings: CloudSettings,
    principal: Principal,
    user_id: int,
    password: str | None = None,
) -> str:
    """Set a first-login password (generated unless given), unlock, end every session."""
    user = _get_for_update(session, user_id)
    new_password = password or security.generate_password()
    _set_password(session, settings=settings, user=user, password=new_password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    _revoke_sessions(session, user_id=user_id, reason="password_reset")
    session.flush()
    audit_service.record(
        session, action="user.password_reset", principal=principal,
        object_type="user", object_id=str(user_id),
    )
    return new_password


def disable_inactive(
    session: Session, *, days: int = INACTIVE_DISABLE_DAYS, now: datetime | None = None
) -> list[int]:
    """Disable accounts unused for `days` (等保: 90 days inactive → disabled).

    An account never used counts from its creation. Returns the disabled user ids.
    """
    cutoff = (now or utcnow()) - timedelta(days=days)
    stale = session.exec(
        select(User).where(
            col(User.is_active).is_(True),
            or_(col(User.last_login_at) < cutoff,
                col(User.last_login_at).is_(None) & (col(User.created_at) < cutoff)),
        ).with_for_update()
    ).all()
    for user in stale:
        assert user.id is not None
        user.is_active = False
        session.add(user)
        _revoke_sessions(session, user_id=user.id, reason="inactive")
    session.flush()
    for user in stale:
        audit_service.record(
            session, action="user.disable_inactive", actor="system", object_type="user",
            object_id=str(user.id), detail={"days": days},
        )
    return [u.id for u in stale if u.id is not None]


# ---------------------------------------------------------------- login sessions


def login(
    session: Session,
    *,
    settings: CloudSettings,
    username: str,
    password: str,
    ip: str | None,
    user_agent: str = "",
) -> IssuedTokens:
    """Check the password and open a session.

    Rejections are RecordedRejection errors raised after their failure counter and audit
    row are written; the caller must commit before answering. A second factor (等保 level
    3) would be checked after the password and before the session is created.
    """
    name = normalise_username(username)
    now = utcnow()
    user = session.exec(select(User).where(User.username == name).with_for_update()).first()
    if user is None:
        security.burn_verification(password)
        _audit_login(session, name, None, ip, "failure", reason="unknown_user")
        raise InvalidCredentials()
    assert user.id is not None
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        minutes = math.ceil((as_utc(user.locked_until) - now).total_seconds() / 60)
        _audit_login(session, name, user.id, ip, "failure", reason="locked")
        raise AccountLocked(minutes)
    if not security.verify_password(user.password_hash, password):
        locked = _count_failure(session, settings=settings, user=user, now=now)
        _audit_login(session, name, user.id, ip, "failure", reason="bad_password",
                     failures=user.failed_logins, locked=locked)
        if locked:
            raise AccountLocked(settings.lockout_minutes)
        raise InvalidCredentials()
    if not user.is_active:
        _audit_login(session, name, user.id, ip, "failure", reason="disabled")
        raise AccountDisabled()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    session.add(user)
    refresh_token = security.new_refresh_token()
    auth = AuthSession(
        id=security.new_session_id(),
        user_id=user.id,
        refresh_hash=security.refresh_token_hash(refresh_token),
        ip=ip,
        user_agent=user_agent[:200],
        created_at=now,
        last_used_at=now,
        expires_at=now + SESSION_MAX_AGE,
    )
    session.add(auth)
    session.flush()
    _audit_login(session, name, user.id, ip, "success", session_id=auth.id)
    return _issue(session, settings=settings, user=user, auth=auth,
                  refresh_token=refresh_token, ip=ip, now=now)


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


def change_password(
    session: Session,
    *,
    settings: CloudSettings,
    principal: Principal,
    old_password: str,
    new_password: str,
) -> None:
    """Change one's own password; every other session of the user ends.

    A wrong old password counts as a failed login: a stolen access token must not become
    a way to guess the password without the lockout.
    """
    user = _get_for_update(session, principal.user_id)
    now = utcnow()
    if not security.verify_password(user.password_hash, old_password):
        locked = _count_failure(session, settings=settings, user=user, now=now)
        if locked:
            _revoke_sessions(session, user_id=principal.user_id, reason="locked")
        audit_service.record(
            session, action="auth.password_change", result="failure", principal=principal,
            object_type="user", object_id=str(principal.user_id),
            detail={"reason": "bad_old_password", "failures": user.failed_logins,
                    "locked": locked},
        )
        if locked:
            raise AccountLocked(settings.lockout_minutes)
        raise InvalidOldPassword()
    _set_password(session, settings=settings, user=user, password=new_password)
    user.must_change_password = False
    user.failed_logins = 0
    session.add(user)
    _revoke_sessions(session, user_id=principal.user_id, reason="password_changed",
                     keep=principal.session_id)
    session.flush()
    audit_service.record(
        session, action="auth.password_change", principal=principal,
        object_type="user", object_id=str(principal.user_id),
    )


def password_change_pending(settings: CloudSettings, user: User, now: datetime) -> bool:
    return access.password_due(settings, must_change=user.must_change_password,
                               changed_at=user.password_changed_at, now=now)


def load_principal(
    session: Session, *, user: User, ip: str | None, session_id: str | None = None
) -> Principal:
    view = _views(session, [user])[0]
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


# ---------------------------------------------------------------- helpers


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


def _count_failure(
    session: Session, *, settings: CloudSettings, user: User, now: datetime
) -> bool:
    """Count one failed password; True when this failure locks the account."""
    user.failed_logins += 1
    locked = user.failed_logins >= settings.lockout_threshold
    if locked:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        # After the lock expires the user gets a full set of attempts again.
        user.failed_logins = 0
    session.add(user)
    session.flush()
    return locked


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


def _revoke_sessions(
    session: Session, *, user_id: int, reason: str, keep: str | None = None
) -> None:
    stmt = (
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(col(AuthSession.id) != keep)
    session.exec(stmt)
    principal_cache.user_changed(session, user_id)


def _set_password(
    session: Session, *, settings: CloudSettings, user: User, password: str
) -> None:
    """Apply the policy and the history rule, then store the new hash."""
    assert user.id is not None
    security.check_password_policy(password, username=user.username)
    depth = settings.password_history
    if depth > 0:
        recent = session.exec(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user.id)
            .order_by(col(PasswordHistory.id).desc())
            .limit(depth)
        ).all()
        if any(security.verify_password(old, password) for old in recent):
            raise PasswordReused(f"新密码不能与最近 {depth} 次使用过的密码相同")
    user.password_hash = security.hash_password(password)
    user.password_changed_at = utcnow()
    session.add(user)
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    session.flush()
    # Older hashes serve no rule any more; keeping them would only help a cracker.
    keep_ids = session.exec(
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(col(PasswordHistory.id).desc())
        .limit(max(depth, 1))
    ).all()
    session.exec(
        delete(PasswordHistory).where(
            col(PasswordHistory.user_id) == user.id, col(PasswordHistory.id).not_in(keep_ids)
        )
    )


def _get_for_update(session: Session, user_id: int) -> User:
    user = session.exec(
        select(User).where(User.id == user_id).with_for_update().execution_options(
            populate_existing=True
        )
    ).first()
    if user is None:
        raise UserNotFound()
    return user


def _valid_roles(roles: Iterable[str]) -> frozenset[str]:
    role_set = frozenset(roles)
    unknown = sorted(role_set - ROLE_PERMISSIONS.keys())
    if unknown:
        raise UnknownRole(f"角色不存在：{'、'.join(unknown)}", extra={"roles": unknown})
    for conflict in ROLE_CONFLICTS:
        if conflict <= role_set:
            raise RoleConflict()
    return role_set


def _valid_sites(session: Session, site_ids: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(site_ids)
    if not wanted:
        return wanted
    found = set(session.exec(select(Site.id).where(col(Site.id).in_(wanted))).all())
    missing = sorted(wanted - found)
    if missing:
        raise UnknownSite(f"案场不存在：{'、'.join(missing)}", extra={"site_ids": missing})
    return wanted


def _views(session: Session, users: list[User]) -> list[UserView]:
    ids = [u.id for u in users if u.id is not None]
    roles: dict[int, set[str]] = {i: set() for i in ids}
    sites: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for uid, role in session.exec(
            select(UserRole.user_id, UserRole.role).where(col(UserRole.user_id).in_(ids))
        ).all():
            roles[uid].add(role)
        for uid, site in session.exec(
            select(UserScope.user_id, UserScope.site_id).where(col(UserScope.user_id).in_(ids))
        ).all():
            sites[uid].add(site)
    return [
        UserView(user=u, roles=frozenset(roles.get(u.id or 0, ())),
                 site_ids=frozenset(sites.get(u.id or 0, ())))
        for u in users
    ]
