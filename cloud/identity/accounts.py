"""Accounts: create, read, list, rename, enable / disable, password reset, and the
90-day inactivity rule. Functions flush; the caller commits."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from cloud.audit import service as audit_service
from cloud.identity import assignments, duties, principal_cache, records, security
from cloud.identity.errors import InvalidUsername, SelfChangeRefused, UsernameTaken, UserNotFound
from cloud.identity.models import PasswordHistory, User, UserRole, UserScope
from cloud.identity.passwords import set_password
from cloud.identity.principal import Principal
from cloud.identity.records import UserView
from cloud.identity.throttle import LoginThrottle
from cloud.settings import CloudSettings
from shared.errors import ValidationFailed
from shared.timeutil import utcnow

INACTIVE_DISABLE_DAYS = 90
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{2,63}")


@dataclass(frozen=True)
class UserPage:
    items: list[UserView]
    next_cursor: int | None


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
    name = records.normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise InvalidUsername()
    role_set = assignments.valid_roles(roles)
    # At creation nobody has granted anything yet: a security administrator does that
    # afterwards, explicitly, through set_roles.
    duties.check_role_set(role_set, personal_data_grant=False)
    sites = assignments.valid_sites(session, site_ids)
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
    return records.views(session, [user])[0]


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
    return UserPage(items=records.views(session, users[:limit]), next_cursor=next_cursor)


def update_user(
    session: Session,
    *,
    principal: Principal,
    user_id: int,
    display_name: str | None = None,
    is_active: bool | None = None,
) -> UserView:
    user = records.get_for_update(session, user_id)
    if user_id != principal.user_id:  # one's own name is one's own; enabling is not
        duties.check_account_authority(principal, records.roles_of(session, user_id))
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
            records.revoke_sessions(session, user_id=user_id, reason="disabled")
    session.add(user)
    session.flush()
    if changes:
        principal_cache.user_changed(session, user_id)
        audit_service.record(
            session, action="user.update", principal=principal,
            object_type="user", object_id=str(user_id), detail={"changes": changes},
        )
    return get_user(session, user_id=user_id)


def reset_password(
    session: Session,
    *,
    settings: CloudSettings,
    throttle: LoginThrottle,
    principal: Principal | None,
    user_id: int,
    password: str | None = None,
    actor: str | None = None,
) -> str:
    """Set a first-login password (generated unless given), end every session and every
    lock of the account.

    Through the API (`principal`) only for accounts without an administrator role; an
    administrator's password is reset at the host by the CLI (`actor`).
    """
    user = records.get_for_update(session, user_id)
    if principal is not None:
        duties.check_password_reset(records.roles_of(session, user_id))
    new_password = password or security.generate_password()
    set_password(session, settings=settings, user=user, password=new_password)
    user.must_change_password = True
    session.add(user)
    records.revoke_sessions(session, user_id=user_id, reason="password_reset")
    throttle.release(user.username)
    session.flush()
    audit_service.record(
        session, action="user.password_reset", principal=principal, actor=actor,
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
        records.revoke_sessions(session, user_id=user.id, reason="inactive")
    session.flush()
    for user in stale:
        audit_service.record(
            session, action="user.disable_inactive", actor="system", object_type="user",
            object_id=str(user.id), detail={"days": days},
        )
    return [u.id for u in stale if u.id is not None]
