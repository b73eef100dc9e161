"""Names for the objects audit rows point at, so a reader sees "王磊（wanglei）" rather
than "user #12". One query per object type per page, never one per row.

Customers are named by their masked phone: an audit reader is not entitled to more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable

from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.catalog.models import Project, Site
from cloud.identity.models import User
from cloud.sales.models import Customer


def _int_ids(ids: Collection[str]) -> set[int]:
    return {int(i) for i in ids if i.isdecimal() and len(i) < 19}


def _users(session: Session, ids: Collection[str]) -> dict[str, str]:
    rows = session.exec(select(User.id, User.display_name, User.username)
                        .where(col(User.id).in_(_int_ids(ids)))).all()
    return {str(i): f"{name}（{username}）" for i, name, username in rows}


def _sites(session: Session, ids: Collection[str]) -> dict[str, str]:
    rows = session.exec(select(Site.id, Site.name).where(col(Site.id).in_(ids))).all()
    return dict(rows)


def _projects(session: Session, ids: Collection[str]) -> dict[str, str]:
    rows = session.exec(select(Project.id, Project.name)
                        .where(col(Project.id).in_(_int_ids(ids)))).all()
    return {str(i): name for i, name in rows}


def _customers(session: Session, ids: Collection[str]) -> dict[str, str]:
    rows = session.exec(select(Customer.id, Customer.phone_masked)
                        .where(col(Customer.id).in_(_int_ids(ids)))).all()
    return {str(i): masked for i, masked in rows}


_RESOLVERS: dict[str, Callable[[Session, Collection[str]], dict[str, str]]] = {
    "user": _users,
    "site": _sites,
    "project": _projects,
    "customer": _customers,
}


def object_labels(session: Session, rows: Iterable[AuditLog]) -> dict[tuple[str, str], str]:
    """(object_type, object_id) → a readable name, for the rows whose object still exists."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.object_id and row.object_type in _RESOLVERS:
            wanted[row.object_type].add(row.object_id)
    labels: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        for object_id, label in _RESOLVERS[object_type](session, ids).items():
            labels[(object_type, object_id)] = label
    return labels
