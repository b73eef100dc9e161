"""Liveness and readiness: /healthz says the process runs, /readyz that its services answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports every failure, whatever its kind
        checks["database"] = f"error: {type(exc).__name__}"
    settings = request.app.state.settings
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    consumer = request.app.state.sync_consumer
    if consumer is not None:
        checks["broker"] = "ok" if consumer.connected else "error: disconnected"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ready else "error", "checks": checks},
                        status_code=200 if ready else 503)
