"""Migration 0047 (audit chain shards) on both backends: the single chain's rows, written
at 0046 and hashed here as ADR 0015 defines it, become shard 0 and still verify; new rows
join the shards beside them; going back down refuses to merge shards."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import VerifyReport, verify_chain
from cloud.audit.models import GENESIS_HASH, AuditLog
from cloud.migrate import alembic_config, upgrade
from shared.dbtypes import table_of
from tests.services import scratch_database

BEFORE = "0046_down_feed_key_index"
# audit_log as 0046 has it: every column but the shard.
OLD_TABLE = sa.table("audit_log", *(sa.column(c.name, c.type) for c in table_of(AuditLog).columns
                                     if c.name not in ("id", "shard")))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.db'}"
        return
    with scratch_database("anchang_mig_") as url:
        yield url


def _single_chain_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """ADR 0015's row hash, written out: sha256(prev_hash + canonical JSON of the fields)."""
    fields = {k: row[k] for k in ("actor_id", "actor", "ip", "action", "object_type",
                                  "object_id", "result", "detail")}
    fields["at"] = row["at"].isoformat(timespec="microseconds")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _old_rows(engine: Engine, count: int) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for i in range(count):
            row: dict[str, Any] = {
                "at": start + timedelta(seconds=i), "actor_id": 7, "actor": "hq.li",
                "ip": "198.51.100.4", "action": "user.create", "object_type": "user",
                "object_id": str(i), "result": "success", "detail": {"n": i, "名": "王"}}
            digest = _single_chain_hash(prev, row)
            conn.execute(OLD_TABLE.insert().values(**row, prev_hash=prev, hash=digest))
            prev = digest


def test_the_single_chain_becomes_shard_0_and_still_verifies(url: str) -> None:
    upgrade(url, BEFORE)
    engine = create_engine(url)
    _old_rows(engine, 3)
    upgrade(url)
    try:
        with Session(engine) as session:
            assert session.exec(select(AuditLog.shard)).all() == [0, 0, 0]
            assert verify_chain(session, keys={}) == VerifyReport(ok=True, checked=3)
            for i in range(6):  # new transactions, each in a shard of its own choosing
                audit_service.record(session, action="visit.synced", actor="cli",
                                     object_id=str(i))
                session.commit()
            assert verify_chain(session, keys={}) == VerifyReport(ok=True, checked=9)
            shards = set(session.exec(select(AuditLog.shard)).all())
            # SQLite has one write lock for everything: its rows stay in shard 0.
            assert (len(shards) > 1) == (engine.dialect.name == "postgresql")
            old_head = session.exec(select(AuditLog).order_by(col(AuditLog.id))
                                    .offset(2)).first()
            after = session.exec(select(AuditLog).where(AuditLog.shard == 0)
                                 .order_by(col(AuditLog.id)).offset(3)).first()
            if after is not None:  # shard 0 goes on from the old chain's head
                assert old_head is not None and after.prev_hash == old_head.hash
    finally:
        engine.dispose()


def test_down_refuses_to_merge_shards_and_keeps_the_guards(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            audit_service.record(session, action="user.create", actor="cli", shard=0)
            session.commit()
        if engine.dialect.name == "postgresql":
            with Session(engine) as session:
                audit_service.record(session, action="user.create", actor="cli", shard=5)
                session.commit()
            with pytest.raises(RuntimeError, match="shards other than 0"):
                command.downgrade(alembic_config(url), BEFORE)
            return
        command.downgrade(alembic_config(url), BEFORE)
        engine.dispose()
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
        upgrade(url)
    finally:
        engine.dispose()
