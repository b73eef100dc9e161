"""Audits of reads, committed in groups after the read (issue #22, ADR 0064).

A read changes nothing, so its audit rows are all its transaction would commit: on their
own, a shard's lock, an insert and a WAL flush per search — costlier than the search. In
a request, the rows wait in its session until it ends; then its answer waits, on the
event loop, while one writer thread per process commits the rows of every request that
is waiting at that moment in one transaction. Requests arriving meanwhile form the next.

Nothing is weakened: an answer leaves only once its rows are committed, so none leaves
without its audit rows and the risk check that reads `customer.search` rows finds every
search that was answered; a group that fails answers each of its requests 503. A request
that fails drops its rows, as a rolled-back transaction would.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.audit.service import AuditEntry, append_now, new_entry, record
from cloud.db import ANSWER_WAITS, is_postgres
from shared.errors import Unavailable

log = logging.getLogger(__name__)

# How long an answer waits for its rows: the groups ahead of it take milliseconds; this
# bounds a stuck database, not a busy one.
WAIT_SECONDS = 10.0
# A writer thread with nothing to write for this long ends; the next read starts another.
IDLE_SECONDS = 30.0
_ROWS = "audit_reads"  # in a request session's info: its rows not yet handed over


class AuditUnavailable(Unavailable):
    code = "audit_unavailable"
    title = "审计日志暂时无法写入，请稍后重试"


def record_reads(session: Session, rows: list[dict[str, Any]]) -> list[AuditEntry]:
    """Audit a read: a row for each item of `rows` (record()'s keyword arguments). In a
    request's session on PostgreSQL, committed in a group before the answer leaves;
    elsewhere (a job, the CLI, SQLite with its one writer) in the session's transaction,
    as record() does."""
    waits = session.info.get(ANSWER_WAITS)
    if waits is None or not is_postgres(session):
        return [record(session, **row) for row in rows]
    entries = [new_entry(**row) for row in rows]
    pending: list[AuditEntry] | None = session.info.get(_ROWS)
    if pending is None:
        pending = session.info[_ROWS] = []
        waits.append(partial(_writer_of(session.get_bind()).commit,  # type: ignore[arg-type]
                             pending))
    pending.extend(entries)
    return entries


class ReadAuditWriter:
    """Commits the read audits of one engine's requests, a group at a time."""

    def __init__(self, engine: Engine) -> None:
        # Weak: _WRITERS keeps a writer as long as its engine lives, not the other way.
        self._engine = weakref.ref(engine)
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)
        self._waiting: list[tuple[list[AuditEntry], asyncio.Future[None]]] = []
        self._running = False

    async def commit(self, entries: list[AuditEntry]) -> None:
        done = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.append((entries, done))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="read-audits", daemon=True).start()
            self._queued.notify()
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                await done
        except TimeoutError:
            raise AuditUnavailable(detail="审计日志写入超时，本次查询未返回结果") from None

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    if not self._queued.wait(IDLE_SECONDS) and not self._waiting:
                        self._running = False
                        return
                group, self._waiting = self._waiting, []
            failed = self._write([e for entries, _ in group for e in entries])
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _, done in group:
                by_loop.setdefault(done.get_loop(), []).append(done)
            for loop, futures in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, futures, failed)
                except RuntimeError:  # the loop closed: nobody waits for these any more
                    continue

    def _write(self, entries: list[AuditEntry]) -> BaseException | None:
        try:
            engine = self._engine()
            if engine is None:
                raise RuntimeError("the engine of these read audits is gone")
            with Session(engine) as session:
                append_now(session, entries)
                session.commit()
        except Exception as exc:  # answered to every request of the group
            log.exception("read audit group of %d rows failed", len(entries))
            return exc
        return None


def _settle(futures: list[asyncio.Future[None]], failed: BaseException | None) -> None:
    for done in futures:
        if done.done():  # timed out meanwhile
            continue
        if failed is None:
            done.set_result(None)
        else:
            refused = AuditUnavailable()
            refused.__cause__ = failed
            done.set_exception(refused)


_WRITERS: weakref.WeakKeyDictionary[Engine, ReadAuditWriter] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _writer_of(engine: Engine) -> ReadAuditWriter:
    with _WRITERS_LOCK:
        writer = _WRITERS.get(engine)
        if writer is None:
            writer = _WRITERS[engine] = ReadAuditWriter(engine)
        return writer
