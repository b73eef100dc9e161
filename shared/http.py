"""Middleware both FastAPI apps use: request id, access log, latency metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import structlog
from fastapi import FastAPI, Response
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

log = structlog.get_logger()


class _RequestContext:
    """Request id, latency by route. A plain ASGI middleware: Starlette's
    BaseHTTPMiddleware (`@app.middleware("http")`) costs a task group and a memory
    stream per request, a large share of a cheap request's time (issue #24)."""

    def __init__(self, app: ASGIApp, *, latency: Histogram,
                 route_of: Callable[[Scope], str]) -> None:
        self.app = app
        self.latency = latency
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id", "")[:64] or uuid.uuid4().hex
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
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
            self.latency.labels(scope["method"], self.route_of(scope), str(status)).observe(
                time.perf_counter() - started)


def install_request_middleware(app: FastAPI, registry: CollectorRegistry, prefix: str) -> None:
    latency = Histogram(
        f"{prefix}_http_request_seconds",
        "HTTP request latency by route",
        ["method", "route", "status"],
        registry=registry,
    )

    def route_of(scope: Scope) -> str:
        """The route template, not the raw path: ids in paths would explode the labels."""
        route = scope.get("route")
        if route is not None:
            return str(getattr(route, "path", "unmatched"))
        for candidate in app.router.routes:
            if candidate.matches(scope)[0] == Match.FULL:
                return str(getattr(candidate, "path", "unmatched"))
        return "unmatched"

    app.add_middleware(_RequestContext, latency=latency, route_of=route_of)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(registry) + generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
