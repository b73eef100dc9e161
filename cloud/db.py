"""Database engine, the connection gate and the per-request session (one commit per
request).

Why a gate (issue #24, docs/decisions/0017-…): FastAPI runs a request's synchronous
dependencies and its route as separate hops through one thread pool, and the session
holds its pooled connection from the first query to the commit. Under load the pool ran
dry while requests that held a connection waited for a thread, and every thread sat in
`QueuePool.get` waiting for a connection: nothing completed until the 30 s pool timeout.
The gate admits at most as many requests to the database as the pool has connections,
and it waits on the event loop — holding neither a thread nor a connection — for a
bounded time, then sheds the request with 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Annotated, Any

import anyio.to_thread
import sqlalchemy.exc
import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from shared.errors import Unavailable
from shared.problem import internal_error, problem

log = structlog.get_logger()

# Connections beyond the gated ones: /readyz, an in-process sync consumer, CLI work, the
# read audits' writer (cloud/audit/reads.py).
SPARE_CONNECTIONS = 4
# Threads beyond the gated requests, for routes that need no database (/metrics, health).
SPARE_THREADS = 8


class ServerBusy(Unavailable):
    code = "server_busy"
    title = "服务繁忙，请稍后重试"


def make_engine(
    url: str, *, pool_size: int = 10, wait_seconds: float = 30.0, pre_ping: bool = True,
    **kwargs: Any,
) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=SPARE_CONNECTIONS, pool_timeout=wait_seconds,
        pool_pre_ping=pre_ping, pool_recycle=1800, **kwargs,
    )


class ConnectionGate:
    """At most `size` requests of this process use the database at once; the others wait
    up to `wait_seconds` on the event loop, then get 503."""

    def __init__(self, size: int, wait_seconds: float) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(size)

    async def acquire(self) -> None:
        if self._slots.locked():  # only a wait needs a timer
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await self._slots.acquire()
            except TimeoutError:
                raise ServerBusy() from None
        else:
            await self._slots.acquire()

    def release(self) -> None:
        self._slots.release()


def install_connection_gate(app: FastAPI, *, size: int, wait_seconds: float) -> None:
    """Gate the request sessions; size the thread pool so every admitted request finds a
    thread; answer a shed request (or a connection wait that timed out) with 503."""
    app.state.connection_gate = ConnectionGate(size, wait_seconds)
    app.state.thread_tokens = size + SPARE_THREADS
    retry_after = str(max(1, math.ceil(wait_seconds)))

    async def busy(request: Request, exc: Exception) -> JSONResponse:
        response = problem(503, ServerBusy.code, ServerBusy.title, request.url.path)
        response.headers["Retry-After"] = retry_after
        return response

    async def operational(request: Request, exc: Exception) -> JSONResponse:
        if unreachable(exc):
            log.warning("database_unavailable", error=str(getattr(exc, "orig", exc))[:200])
        elif not retryable(exc):
            return internal_error(request.url.path, exc)
        return await busy(request, exc)

    app.add_exception_handler(ServerBusy, busy)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, busy)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, operational)


# PostgreSQL ended the transaction so that another could go on (a deadlock: a referral
# locks its number, then its site's feed; the sync consumer the site's feed, then a
# number), or a serializable transaction lost: nothing of it was written, and the same
# request sent again succeeds.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def retryable(exc: Exception) -> bool:
    return getattr(getattr(exc, "orig", None), "pgcode", None) in RETRYABLE_SQLSTATES


def unreachable(exc: Exception) -> bool:
    """The database refused or dropped the connection itself — too many clients, a
    restart, a failover — rather than failing a statement: nothing was done, and the
    request sent again can succeed. SQLAlchemy names no statement for an error raised
    while connecting, and marks a connection lost mid-request as invalidated."""
    return isinstance(exc, sqlalchemy.exc.DBAPIError) and (
        exc.statement is None or exc.connection_invalidated)


def size_thread_pool(app: FastAPI) -> None:
    """Call from the lifespan: the limiter belongs to the running event loop."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.thread_tokens


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Where a SessionRoute keeps its request's session: absent outside a SessionRoute,
# None until a dependency asks for the session.
_SESSION = "anchang.session"
# In the info of a request's session: what its answer waits for once the session is
# committed and its connection given back — coroutine functions, awaited on the event
# loop (the read audits of cloud/audit/reads.py). Absent from any other session.
ANSWER_WAITS = "anchang.answer_waits"


async def get_session(request: Request) -> Session:
    """The request's session, opened on first use behind the gate; its SessionRoute
    commits it once when the route returns, or rolls it back on any error.

    A plain dependency, not one with `yield`: FastAPI gives a generator dependency an
    async context manager, an exit-stack entry and a shielded exit on every request, a
    few per cent of a cheap read (issue #24). Async on purpose: opening a session does
    no I/O."""
    if _SESSION not in request.scope:
        raise RuntimeError(f"{request.url.path}: a route with a session must be a "
                           "SessionRoute (make its router a cloud.routing.DomainRouter)")
    session: Session | None = request.scope[_SESSION]
    if session is None:
        gate: ConnectionGate = request.app.state.connection_gate
        await gate.acquire()
        session = Session(request.app.state.engine, expire_on_commit=False)
        session.info[ANSWER_WAITS] = []
        request.scope[_SESSION] = session
    return session


async def _end_session(request: Request, commit: bool) -> None:
    """Commit (or roll back) what the route left open — a transaction of an async route,
    or the rollback after an error: one thread-pool hop; a request whose session never
    began a transaction needs none. Then give the gate its slot back, and, committed,
    wait for what the answer waits for (ANSWER_WAITS)."""
    session: Session | None = request.scope.pop(_SESSION, None)
    if session is None:
        return
    waits: list[Callable[[], Awaitable[None]]] = session.info.pop(ANSWER_WAITS)
    try:
        if session.in_transaction():
            await anyio.to_thread.run_sync(_finish, session, commit)
        else:
            session.close()
    finally:
        request.app.state.connection_gate.release()
    if commit:
        for wait in waits:
            await wait()


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


class SessionRoute(APIRoute):
    """A route that owns its request's session, and whose synchronous endpoint runs and
    commits it in one thread-pool hop (issue #24, ADR 0037).

    FastAPI would take three: the endpoint, its response model's validation (it validates
    a synchronous endpoint's answer in the thread pool too) and the session's commit —
    each hop about a tenth of a cheap read's CPU. Wrapped as a coroutine that runs the
    endpoint and the commit in one thread, the answer is validated on the event loop.
    Every API router is a cloud.routing.DomainRouter, which makes its routes with this
    class (tests/cloud/test_session_route.py and test_routing.py walk the routes)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_one_hop(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_session(request: Request) -> Response:
            request.scope[_SESSION] = None  # get_session opens it if a dependency asks
            try:
                response = await handler(request)
            except BaseException:
                await _end_session(request, commit=False)
                raise
            await _end_session(request, commit=True)
            return response

        return with_session


def _in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    def run(kwargs: dict[str, Any]) -> Any:
        result = endpoint(**kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    # wraps: FastAPI reads the parameters and their annotations through __wrapped__,
    # and still sees a coroutine function (it looks at the wrapper first).
    @wraps(endpoint)
    async def hop(**kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(run, kwargs)

    return hop
