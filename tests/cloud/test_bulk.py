"""insert_rows: one statement for many rows, on PostgreSQL and on SQLite alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.bulk import insert_rows
from cloud.catalog.models import Site
from cloud.db import make_engine
from cloud.migrate import upgrade
from cloud.sync.models import DownFeed, SyncEvent
from shared.timeutil import utcnow


def rows(n: int, *, event_id: str | None = None) -> list[dict[str, object]]:
    now = utcnow()
    return [{"site_id": "site-a", "epoch": "e", "seq": i + 1, "content_sha256": None,
             "event_id": event_id or f"00000000-0000-0000-0000-{i:012d}", "type": "t",
             "outcome": "applied", "detail": {"n": i, "名": "张"}, "occurred_at": now,
             "applied_at": now} for i in range(n)]


def check(session: Session) -> None:
    session.add(Site(id="site-a", name="A"))
    session.flush()
    assert insert_rows(session, SyncEvent, rows(3)) == []
    stored = session.exec(select(SyncEvent).order_by(col(SyncEvent.seq))).all()
    assert [(e.seq, e.detail) for e in stored] == [(i + 1, {"n": i, "名": "张"})
                                                   for i in range(3)]
    assert all(e.occurred_at.utcoffset() is not None for e in stored)
    back = insert_rows(session, DownFeed, [
        {"site_id": "site-a", "kind": "customer", "key": k, "data": {}, "created_at": utcnow()}
        for k in ("a", "b")], returning=("offset", "key"))
    assert sorted(k for _, k in back) == ["a", "b"] and all(o > 0 for o, _ in back)
    with pytest.raises(IntegrityError), session.begin_nested():
        insert_rows(session, SyncEvent, [{**r, "seq": 9} for r in rows(1)])  # reused event id
    assert len(session.exec(select(SyncEvent)).all()) == 3


def test_on_postgresql_values_pass_their_types_and_errors_are_sqlalchemys(
    db: Session
) -> None:
    check(db)


def test_on_sqlite_the_same(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)  # the schema SQLite deployments get
    engine = make_engine(url)
    with Session(engine) as session:
        check(session)
    engine.dispose()
