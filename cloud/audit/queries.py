"""Reading the audit log: filtered pages, newest first, for the console and its export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog

if TYPE_CHECKING:
    from sqlmodel.sql.expression import SelectOfScalar


@dataclass(frozen=True)
class AuditFilter:
    action_prefix: str | None = None
    actor: str | None = None
    result: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_detail(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditLog]
    next_cursor: int | None


def search(
    session: Session, *, filters: AuditFilter, cursor: int | None = None, limit: int = 50
) -> AuditPage:
    """Newest first; `cursor` is the id of the last row of the previous page."""
    query = _filtered(filters).order_by(col(AuditLog.id).desc()).limit(limit + 1)
    if cursor is not None:
        query = query.where(col(AuditLog.id) < cursor)
    rows = list(session.exec(query).all())
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return AuditPage(items=rows[:limit], next_cursor=next_cursor)


def iter_matching(
    session: Session, *, filters: AuditFilter, max_rows: int
) -> Iterator[AuditLog]:
    """Newest first, at most max_rows, read in pages so memory stays flat."""
    cursor: int | None = None
    remaining = max_rows
    while remaining > 0:
        page = search(session, filters=filters, cursor=cursor, limit=min(remaining, 1000))
        yield from page.items
        remaining -= len(page.items)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _filtered(filters: AuditFilter) -> SelectOfScalar[AuditLog]:
    query = select(AuditLog)
    if filters.action_prefix:
        query = query.where(col(AuditLog.action).startswith(filters.action_prefix,
                                                            autoescape=True))
    if filters.actor:
        query = query.where(AuditLog.actor == filters.actor)
    if filters.result:
        query = query.where(AuditLog.result == filters.result)
    if filters.object_type:
        query = query.where(AuditLog.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditLog.object_id == filters.object_id)
    if filters.since is not None:
        query = query.where(col(AuditLog.at) >= filters.since)
    if filters.until is not None:
        query = query.where(col(AuditLog.at) < filters.until)
    return query
