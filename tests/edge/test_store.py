"""The edge database: schema by migration, connection PRAGMAs, gapless seqs, crash safety."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, migrations, outbox
from edge_agent.store.db import StoreNotReady
from edge_agent.store.migrations.step import MigrationNeedsKeys
from edge_agent.store.models.base import EdgeModel
from tests.consent import consent_in
from tests.edge.helpers import settings_env

pytestmark = pytest.mark.anyio
REPO = Path(__file__).resolve().parents[2]


def run_child(env: dict[str, str], *args: str, crash_at: str | None = None) -> int:
    full_env = {**os.environ, **env}
    full_env.pop("ANCHANG_CRASH_AT", None)
    if crash_at:
        full_env["ANCHANG_CRASH_AT"] = crash_at
    proc = subprocess.run(
        [sys.executable, "-m", "tests.edge.crash_child", *args],
        cwd=REPO, env=full_env, capture_output=True, timeout=60, check=False,
    )
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(proc.stderr.decode()[-2000:])
    return proc.returncode


def raw(path: str, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_migration_builds_the_model_schema(store: Store) -> None:
    assert raw(str(store.path), "PRAGMA user_version") == [(migrations.SCHEMA_VERSION,)]
    for table in EdgeModel.metadata.sorted_tables:
        info = raw(str(store.path), f"PRAGMA table_info({table.name})")
        not_null = {row[1]: bool(row[3]) for row in info}
        assert set(not_null) == {c.name for c in table.columns}, table.name
        for column in table.columns:  # NOT NULL in the DDL exactly where the model says
            assert not_null[column.name] == (not column.nullable), (table.name, column.name)


async def test_reopening_is_idempotent_and_a_newer_schema_is_refused(
    edge_settings: EdgeSettings,
) -> None:
    first = await Store.open(edge_settings.database_path)
    await register_visit(first, edge_settings, VisitIn(phone="13800000001", party_size=1,
                                                       consent=consent_in()))
    await first.close()
    again = await Store.open(edge_settings.database_path)
    assert (await again.read(outbox.backlog)).count == 1
    await again.close()
    with sqlite3.connect(edge_settings.database_path) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    with pytest.raises(migrations.SchemaTooNew):
        await Store.open(edge_settings.database_path)
    with pytest.raises(StoreNotReady):
        await Store.open(Path(edge_settings.database_path).with_name("missing.db"), migrate=False)


def store_at_v7(path: Path) -> None:
    """A store as the agent before schema v8 left it, with one visit that has an intent."""
    with sqlite3.connect(path) as conn:
        for version in range(7):
            for step in migrations.MIGRATIONS[version]:
                assert isinstance(step, str)
                conn.execute(step)
        conn.execute("PRAGMA user_version = 7")
        conn.execute(
            "INSERT INTO visit (id, project_id, phone_enc, phone_bidx, phone_masked, party_size, "
            "intent, source, occurred_at, visit_date, classification, provisional, "
            "visit_number, idempotency_key, seq, event_id) VALUES ('v1', 1, 'x', 'b', "
            "'138****0001', 2, '三房，预算 500 万', 'natural', '2026-11-27 10:00:00', "
            "'2026-11-27', 'first_visit', 1, 1, 'k1', 1, 'e1')")


async def test_v8_encrypts_the_intents_already_stored_and_needs_the_keys_for_it(
    edge_settings: EdgeSettings,
) -> None:
    path = Path(edge_settings.database_path)
    store_at_v7(path)
    with pytest.raises(MigrationNeedsKeys):
        await Store.open(path)
    assert raw(str(path), "PRAGMA user_version") == [(7,)]  # the step left nothing behind
    store = await Store.open(path, cipher=edge_settings.cipher)
    await store.close()
    columns = {row[1] for row in raw(str(path), "PRAGMA table_info(visit)")}
    assert "intent" not in columns
    [(sealed,)] = raw(str(path), "SELECT intent_enc FROM visit")
    assert isinstance(sealed, str) and "三房" not in sealed
    assert edge_settings.cipher.decrypt(sealed, context="visit.intent") == "三房，预算 500 万"


async def test_every_connection_has_the_durability_pragmas(store: Store) -> None:
    async def pragmas(session: AsyncSession) -> tuple[object, ...]:
        return tuple(
            [
                (await (await session.connection()).exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            ]
        )

    reads = await asyncio.gather(*[store.read(pragmas) for _ in range(4)])
    writes = await store.write(pragmas)
    for got in [*reads, writes]:
        assert got == ("wal", 2, 1, 10_000)  # synchronous 2 = FULL


async def test_write_transactions_begin_immediate(store: Store) -> None:
    # While a write transaction runs, another connection cannot even start writing:
    # the lock is taken at BEGIN, so seq allocation can never interleave.
    async def probe(session: AsyncSession) -> str:
        await (await session.connection()).exec_driver_sql("SELECT 1")
        other = sqlite3.connect(str(store.path), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            other.close()
        return "no lock"

    assert "locked" in await store.write(probe)


async def test_a_cancelled_caller_lets_the_transaction_end_and_return_its_connection(
    store: Store, edge_settings: EdgeSettings
) -> None:
    # The agent's stop() cancels loops that may be inside a transaction; a transaction cut
    # off there left its connection to the garbage collector (and the process hung at exit).
    inside = asyncio.Event()

    async def slow_write(session: AsyncSession) -> int:
        seq = await outbox.allocate_seq(session)
        inside.set()
        await asyncio.sleep(0.2)
        await (await session.connection()).exec_driver_sql("SELECT 1")
        return seq

    caller = asyncio.create_task(store.write(slow_write))
    await inside.wait()
    caller.cancel()
    caller.cancel()  # a second cancellation must not cut it short either
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    # The write ran to its end and committed: the next seq follows it.
    result = await register_visit(store, edge_settings, VisitIn(phone="13800000003", party_size=1,
                                                                consent=consent_in()))
    assert result.visit.seq == 2


async def test_concurrent_registrations_get_gapless_seqs(
    store: Store, edge_settings: EdgeSettings
) -> None:
    results = await asyncio.gather(
        *[
            register_visit(store, edge_settings, VisitIn(phone=f"1390000{i:04d}", party_size=1,
                                                         consent=consent_in()))
            for i in range(60)
        ]
    )
    assert sorted(r.visit.seq for r in results) == list(range(1, 61))
    seqs = [row[0] for row in raw(str(store.path), "SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, 61))
    assert raw(str(store.path), "SELECT next_seq FROM sync_state") == [(61,)]


async def test_a_failed_transaction_consumes_no_seq(
    store: Store, edge_settings: EdgeSettings
) -> None:
    async def allocate_then_fail(session: AsyncSession) -> None:
        await outbox.allocate_seq(session)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.write(allocate_then_fail)
    result = await register_visit(store, edge_settings, VisitIn(phone="13800000002", party_size=1,
                                                                consent=consent_in()))
    assert result.visit.seq == 1


async def test_kill_inside_the_outbox_transaction_leaves_no_trace(tmp_path: Path) -> None:
    env = settings_env(tmp_path)
    db = env["ANCHANG_EDGE_DATABASE_PATH"]
    assert run_child(env, "register", "13800000011") == 0
    assert run_child(env, "register", "13800000012", crash_at="in_outbox_tx") == -signal.SIGKILL
    # Rolled back: no visit, no outbox row, the seq not consumed.
    assert raw(db, "SELECT seq FROM visit ORDER BY seq") == [(1,)]
    assert raw(db, "SELECT seq FROM outbox ORDER BY seq") == [(1,)]
    assert raw(db, "SELECT next_seq FROM sync_state") == [(2,)]
    assert run_child(env, "register", "13800000012") == 0
    assert raw(db, "SELECT seq FROM outbox ORDER BY seq") == [(1,), (2,)]


async def test_kill_after_the_outbox_commit_keeps_the_event(tmp_path: Path) -> None:
    env = settings_env(tmp_path)
    db = env["ANCHANG_EDGE_DATABASE_PATH"]
    assert run_child(env, "register", "13800000021", crash_at="after_outbox_commit") == -9
    assert raw(db, "SELECT seq FROM visit") == [(1,)]
    assert raw(db, "SELECT seq, type FROM outbox") == [(1, "visit.registered")]
