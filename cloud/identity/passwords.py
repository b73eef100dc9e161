"""Passwords: the history rule, failed-attempt counting and changing one's own.
Functions flush; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.identity import access, records, security
from cloud.identity.errors import AccountLocked, InvalidOldPassword, PasswordReused
from cloud.identity.models import PasswordHistory, User
from cloud.identity.principal import Principal
from cloud.identity.throttle import LoginThrottle
from cloud.settings import CloudSettings
from shared.timeutil import utcnow


def change_password(
    session: Session,
    *,
    settings: CloudSettings,
    throttle: LoginThrottle,
    principal: Principal,
    old_password: str,
    new_password: str,
) -> None:
    """Change one's own password; every other session of the user ends.

    A wrong old password counts as a failed login: a stolen access token must not become
    a way to guess the password without the lockout. A lock also ends the user's sessions.
    """
    user = records.get_for_update(session, principal.user_id)
    if not security.verify_password(user.password_hash, old_password):
        lock_seconds = throttle.failed(user.username, principal.ip)
        if lock_seconds is not None:
            records.revoke_sessions(session, user_id=principal.user_id, reason="locked")
        audit_service.record(
            session, action="auth.password_change", result="failure", principal=principal,
            object_type="user", object_id=str(principal.user_id),
            detail={"reason": "bad_old_password", "locked": lock_seconds is not None},
        )
        if lock_seconds is not None:
            raise AccountLocked(lock_seconds)
        raise InvalidOldPassword()
    set_password(session, settings=settings, user=user, password=new_password)
    user.must_change_password = False
    session.add(user)
    records.revoke_sessions(session, user_id=principal.user_id, reason="password_changed",
                            keep=principal.session_id)
    session.flush()
    audit_service.record(
        session, action="auth.password_change", principal=principal,
        object_type="user", object_id=str(principal.user_id),
    )


def password_change_pending(settings: CloudSettings, user: User, now: datetime) -> bool:
    return access.password_due(settings, must_change=user.must_change_password,
                               changed_at=user.password_changed_at, now=now)


def set_password(
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
