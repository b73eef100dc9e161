"""Middleware both FastAPI apps use: request id, access log, latency metrics.

The access log is ours, not uvicorn's: uvicorn's line carries the raw path and query
string — customer ids, and the kiosk's `?phone=` look-ups in full — so every server we
run passes UVICORN_LOGGING, which turns it off."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logs import access_line
from shared.problem import log_unhandled

# uvicorn.run / uvicorn.Config keyword arguments: logging is configured by
# shared.logs.configure_logging, and the access line is _RequestContext's.
UVICORN_LOGGING: dict[str, Any] = {"log_config": None, "access_log": False}


class _RequestIds:
    """Request ids unique across processes and restarts without a system call each
    (uuid4 reads the kernel's random source, a few per cent of a cheap request): a random
    prefix per process, renewed in a forked child, and a counter."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_request_ids = _RequestIds()


class _RequestContext:
    """Request id, latency by route. A plain ASGI middleware: Starlette's
    BaseHTTPMiddleware (`@app.middleware("http")`) costs a task group and a memory
    stream per request, a large share of a cheap request's time (issue #24)."""

    def __init__(self, app: ASGIApp, *, latency: Histogram,
                 route_of: Callable[[Scope], str], access_log: bool) -> None:
        self.app = app
        self.latency = latency
        self.route_of = route_of
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id", "")[:64] or _request_ids.next()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Logged here, where the request id is bound; the outermost error handler
            # answers the 500 and keeps every detail from the client.
            log_unhandled(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = self.route_of(scope)
            self.latency.labels(scope["method"], route, str(status)).observe(elapsed)
            if self.access_log:
                client = scope.get("client")
                access_line(request_id=request_id, method=scope["method"], route=route,
                            status=status, ms=round(elapsed * 1000, 1),
                            client=client[0] if client else None)
            structlog.contextvars.unbind_contextvars("request_id")


def install_request_middleware(app: FastAPI, registry: CollectorRegistry, prefix: str, *,
                               access_log: bool) -> None:
    latency = Histogram(
        f"{prefix}_http_request_seconds",
        "HTTP request latency by route",
        ["method", "route", "status"],
        registry=registry,
    )

    templates: dict[int, str] = {}

    def route_of(scope: Scope) -> str:
        """The route template, not the raw path: ids in paths would explode the labels
        and put customers' ids in the log."""
        route = scope.get("route")
        if route is not None:
            if not templates:  # the routers are included after this is installed
                templates.update((id(c.original_route), c.path_format)
                                 for c in iter_route_contexts(app.routes) if c.path_format)
            # An included router's route knows only its path inside that router.
            return templates.get(id(route)) or str(getattr(route, "path", "unmatched"))
        for candidate in app.router.routes:
            if candidate.matches(scope)[0] == Match.FULL:
                return str(getattr(candidate, "path", "unmatched"))
        return "unmatched"

    app.add_middleware(_RequestContext, latency=latency, route_of=route_of,
                       access_log=access_log)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(registry) + generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
