"""Saved 多维查询 (ADR 0028, 0043): each user keeps up to MAX_SAVED named query
definitions of their own and runs them again. A definition is checked against the
whitelist of dimensions and measures when saved and again when run (the whitelist may
have changed since); it never carries a scope: a run counts only what the runner sees
at that moment. Nobody else's saved query is reachable (404, as for a name never saved).
Saving is the user's own bookkeeping, like the query itself: not audited."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.channel.analytics_schemas import QueryDefinition
from cloud.channel.errors import SavedQueryLimit, SavedQueryNotFound, SavedQueryOutdated
from cloud.channel.saved_query_models import SavedQuery
from shared.timeutil import utcnow

MAX_SAVED = 50


def mine(session: Session, owner_id: int) -> list[SavedQuery]:
    return list(session.exec(select(SavedQuery).where(SavedQuery.owner_id == owner_id)
                             .order_by(col(SavedQuery.name))).all())


def _find(session: Session, owner_id: int, name: str) -> SavedQuery | None:
    return session.exec(select(SavedQuery).where(
        SavedQuery.owner_id == owner_id, SavedQuery.name == name)).first()


def save(session: Session, *, owner_id: int, name: str, query: QueryDefinition,
         check: Callable[[QueryDefinition], None]) -> SavedQuery:
    """Creates or replaces the caller's query of this name (PUT semantics)."""
    check(query)
    row = _find(session, owner_id, name)
    if row is None:
        held: int = session.exec(select(func.count()).select_from(SavedQuery).where(
            SavedQuery.owner_id == owner_id)).one()
        if held >= MAX_SAVED:
            raise SavedQueryLimit(f"每人最多保存 {MAX_SAVED} 个查询，请先删除不用的查询")
        row = SavedQuery(owner_id=owner_id, name=name, definition={})
    row.definition = query.model_dump(mode="json")
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def definition(session: Session, *, owner_id: int, name: str) -> QueryDefinition:
    row = _find(session, owner_id, name)
    if row is None:
        raise SavedQueryNotFound()
    return parsed(row)


def parsed(row: SavedQuery) -> QueryDefinition:
    try:
        return QueryDefinition.model_validate(row.definition)
    except ValidationError as exc:
        raise SavedQueryOutdated() from exc


def delete(session: Session, *, owner_id: int, name: str) -> None:
    row = _find(session, owner_id, name)
    if row is None:
        raise SavedQueryNotFound()
    session.delete(row)
    session.flush()
