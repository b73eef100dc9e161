"""Site staff (consultants and sales managers) as a list to pick from, e.g. the
consultant filter of the visit search or a manager's assignment. Not the sales director:
on the site's roster to sign in, but working no customers (shared.roster)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.identity.models import User, UserRole, UserScope
from shared.roster import SITE_STAFF_ROLES


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    active: bool
    site_ids: frozenset[str]


def site_staff(session: Session, *, site_ids: Collection[str] | None) -> list[StaffMember]:
    """Staff of the given sites (None: of every site), each with those of its sites that
    were asked for; ordered by name."""
    query = (
        select(User.id, User.display_name, User.is_active, UserScope.site_id)
        .join(UserRole, col(UserRole.user_id) == User.id)
        .join(UserScope, col(UserScope.user_id) == User.id)
        .where(col(UserRole.role).in_(SITE_STAFF_ROLES))
        .distinct()
    )
    if site_ids is not None:
        query = query.where(col(UserScope.site_id).in_(site_ids))
    found: dict[int, tuple[str, bool, set[str]]] = {}
    for user_id, name, active, site_id in session.exec(query).all():
        assert user_id is not None
        found.setdefault(user_id, (name, active, set()))[2].add(site_id)
    staff = [StaffMember(i, name, active, frozenset(sites))
             for i, (name, active, sites) in found.items()]
    return sorted(staff, key=lambda m: (m.name, m.id))
