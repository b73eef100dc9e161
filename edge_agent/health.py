"""Liveness and readiness of the edge agent.

/readyz depends on the database only: the kiosk must keep working while the cloud link is
down, so the broker state is reported but does not make the agent unready.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

router = APIRouter(tags=["health"])


async def _select_one(session: AsyncSession) -> None:
    await (await session.connection()).exec_driver_sql("SELECT 1")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        await request.app.state.store.read(_select_one)
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports every failure, whatever its kind
        checks["database"] = f"error: {type(exc).__name__}"
    # A full disk takes no registration: not ready, though reads still work.
    checks["storage"] = "full" if request.app.state.store.storage_full else "ok"
    agent = request.app.state.sync_agent
    broker = "disabled" if agent is None else ("ok" if agent.online else "disconnected")
    # The cloud link is reported, not required: the kiosk works on while it is down.
    sync = "disabled" if agent is None else agent.up.link_state
    ready = checks["database"] == "ok" and checks["storage"] == "ok"
    return JSONResponse(
        {"status": "ok" if ready else "error", "checks": checks, "broker": broker,
         "sync": sync},
        status_code=200 if ready else 503,
    )
