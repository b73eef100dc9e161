"""Row-level helpers the identity services share: loading users with their roles and
sites, locking a user row, ending sessions. No rule lives here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.identity import principal_cache
from cloud.identity.errors import UserNotFound
from cloud.identity.models import AuthSession, User, UserRole, UserScope
from shared.timeutil import utcnow


@dataclass(frozen=True)
class UserView:
    user: User
    roles: frozenset[str]
    site_ids: frozenset[str]


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def get_for_update(session: Session, user_id: int) -> User:
    user = session.exec(
        select(User).where(User.id == user_id).with_for_update().execution_options(
            populate_existing=True
        )
    ).first()
    if user is None:
        raise UserNotFound()
    return user


def roles_of(session: Session, user_id: int) -> frozenset[str]:
    return frozenset(session.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all())


def revoke_sessions(
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


def views(session: Session, users: list[User]) -> list[UserView]:
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
