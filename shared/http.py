"""Middleware both FastAPI apps use: request id, access log, latency metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from starlette.routing import Match

log = structlog.get_logger()

Handler = Callable[[Request], Awaitable[Response]]


def install_request_middleware(app: FastAPI, registry: CollectorRegistry, prefix: str) -> None:
    latency = Histogram(
        f"{prefix}_http_request_seconds",
        "HTTP request latency by route",
        ["method", "route", "status"],
        registry=registry,
    )

    def route_of(request: Request) -> str:
        """The route template, not the raw path: ids in paths would explode the labels."""
        route = request.scope.get("route")
        if route is not None:
            return str(getattr(route, "path", "unmatched"))
        for candidate in app.router.routes:
            if candidate.matches(request.scope)[0] == Match.FULL:
                return str(getattr(candidate, "path", "unmatched"))
        return "unmatched"

    @app.middleware("http")
    async def request_context(request: Request, call_next: Handler) -> Response:
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        elapsed = time.perf_counter() - started
        latency.labels(request.method, route_of(request), str(response.status_code)).observe(
            elapsed
        )
        response.headers["x-request-id"] = request_id
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(registry) + generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
