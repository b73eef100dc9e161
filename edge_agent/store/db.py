"""The Store: the agent's SQLite file through async SQLAlchemy + aiosqlite.

Connection rules (every connection): WAL, synchronous=FULL (a committed outbox row
survives power loss, see domain/sync-faults.md), foreign keys, busy timeout. The driver's
own transaction handling is switched off and we emit BEGIN ourselves: write transactions
use BEGIN IMMEDIATE (the write lock is taken up front, so seq allocation is serial even
across processes), and inside this process writers queue on an asyncio lock instead of
spinning on SQLITE_BUSY.

`await store.write(fn, …)` runs `await fn(session, …)` in one transaction and commits it;
`await store.read(fn, …)` runs it in a read transaction that is rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.store import migrations
from shared.crypto import FieldCipher
from shared.errors import AppError

BUSY_TIMEOUT_MS = 10_000
_BEGIN_OPTION = "anchang_begin"

P = ParamSpec("P")
T = TypeVar("T")


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
    cursor = dbapi_conn.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}",
    ):
        cursor.execute(pragma)
    cursor.close()


def _on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(path: Path) -> AsyncEngine:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    event.listen(engine.sync_engine, "connect", _on_connect)
    event.listen(engine.sync_engine, "begin", _on_begin)
    return engine


class StoreNotReady(RuntimeError):
    """The database file is missing or its schema is not this agent's."""


class StorageFull(AppError):
    """SQLite could not grow the file (disk or quota full): nothing of the transaction was
    written, and everything committed before is intact."""

    status = 507
    code = "storage_full"
    title = "案场设备存储空间已满，本次操作未保存。已保存的登记不受影响，请联系管理员清理空间后重试"


def _is_full(error: BaseException) -> bool:
    # SQLITE_FULL ("database or disk is full"), whichever layer wrapped it.
    text = str(getattr(error, "orig", error)).lower()
    return isinstance(error, OperationalError | sqlite3.OperationalError) and (
        "database or disk is full" in text)


async def _to_the_end(operation: Awaitable[T]) -> T:
    """Await a store operation that the caller's cancellation does not cut short.

    A transaction cancelled between two driver calls leaves its pooled connection checked
    out; the garbage collector then resets it from whatever code happens to run, outside
    the event loop's control, and an aiosqlite connection that is never closed keeps its
    (non-daemon) thread and so the process alive at exit. Store operations take
    milliseconds, so the cancellation is delivered once the operation has ended.
    """
    task = asyncio.ensure_future(operation)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        while not task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved: the caller was cancelled and hears only that
        raise


class Store:
    """Transactions on the edge database."""

    def __init__(self, engine: AsyncEngine, path: Path) -> None:
        self.engine = engine
        self.path = path
        self._write_lock = asyncio.Lock()
        self._outbox_listeners: list[Callable[[], None]] = []
        # Set when a write found the disk full, cleared by the next write that commits.
        self.storage_full = False

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True,
                   cipher: FieldCipher | None = None) -> Store:
        """Open (and unless `migrate=False`, create or upgrade) the database at `path`;
        `cipher` for the upgrade steps that encrypt stored rows."""
        path = Path(path)
        if migrate:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise StoreNotReady(f"no database at {path}")
        engine = make_engine(path)
        try:
            async with engine.connect() as conn:
                if migrate:
                    conn = await conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
                    async with conn.begin():
                        await conn.run_sync(migrations.upgrade, cipher)
                else:
                    version = await conn.run_sync(migrations.schema_version)
                    if version != migrations.SCHEMA_VERSION:
                        raise StoreNotReady(
                            f"schema v{version}, this agent needs v{migrations.SCHEMA_VERSION}"
                        )
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, path)

    async def close(self) -> None:
        await self.engine.dispose()

    async def read(
        self,
        fn: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`await fn(session, …)` in a (deferred) read transaction, rolled back after."""
        return await _to_the_end(self._read(fn, *args, **kwargs))

    async def _read(
        self,
        fn: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            return await fn(session, *args, **kwargs)

    async def write(
        self,
        fn: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`await fn(session, …)` in one BEGIN IMMEDIATE transaction: committed when it
        returns, rolled back when it raises. Writers in this process run one at a time."""
        return await _to_the_end(self._write(fn, *args, **kwargs))

    async def _write(
        self,
        fn: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        async with self._write_lock, AsyncSession(self.engine, expire_on_commit=False) as session:
            await session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
            try:
                result = await fn(session, *args, **kwargs)
                await session.commit()
            except BaseException as error:
                await session.rollback()
                if _is_full(error):
                    self.storage_full = True
                    raise StorageFull() from error
                raise
            self.storage_full = False
            return result

    def add_outbox_listener(self, callback: Callable[[], None]) -> None:
        """Called (on the event loop) after a commit that added outbox rows."""
        self._outbox_listeners.append(callback)

    def remove_outbox_listener(self, callback: Callable[[], None]) -> None:
        if callback in self._outbox_listeners:
            self._outbox_listeners.remove(callback)

    def outbox_committed(self) -> None:
        for callback in list(self._outbox_listeners):
            callback()
