"""The edge agent's FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from edge_agent import __version__, health
from edge_agent.calls.api import kiosk_router as calls_kiosk_router
from edge_agent.calls.api import staff_router as calls_staff_router
from edge_agent.cameras import face_events, firmware
from edge_agent.cameras.api import router as cameras_router
from edge_agent.cameras.capture_service import CaptureService
from edge_agent.customers.api import router as customers_router
from edge_agent.faces.api import router as faces_router
from edge_agent.faces.service import FaceService
from edge_agent.faces.staff_api import router as faces_staff_router
from edge_agent.followups.api import router as followups_router
from edge_agent.kiosk.api import router as kiosk_router
from edge_agent.kiosk.lookup_guard import LookupLimiter
from edge_agent.rota.api import router as rota_router
from edge_agent.rota.staff_api import router as reception_staff_router
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.api import router as staff_router
from edge_agent.store import Store
from edge_agent.store.rekey import ensure_site_key
from edge_agent.sync.agent import SyncAgent
from edge_agent.sync.metrics import SyncMetrics
from shared.apidocs import install_api_docs
from shared.browser import install_browser_hardening, origin_of
from shared.http import install_request_middleware
from shared.inputguard import InputGuardMiddleware
from shared.logs import configure_logging
from shared.problem import install_problem_handlers
from shared.static import mount_spa

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 16 * 1024
WEB = Path(__file__).parent / "web"


async def _start_capture(settings: EdgeSettings, store: Store,
                         faces: FaceService) -> CaptureService:
    # Frames reach the face pipeline only while the site has face use on (FaceService).
    capture = CaptureService(settings, store, on_frame=faces.on_frame,
                             on_idle=faces.on_idle, on_stopped=faces.on_stopped)
    await capture.start()
    return capture


def create_app(settings: EdgeSettings | None = None, *, sync: bool | None = None) -> FastAPI:
    """The agent app. `sync=False` (or settings.sync_enabled=False) runs without MQTT."""
    settings = settings or EdgeSettings()
    run_sync = settings.sync_enabled if sync is None else sync
    registry = CollectorRegistry()
    metrics = SyncMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await Store.open(settings.database_path, cipher=settings.cipher)
        reindexed = await store.write(ensure_site_key, settings)
        if reindexed:
            structlog.get_logger().warning("site_key_changed_reindexed", visits=reindexed)
        app.state.store = store
        agent = SyncAgent(settings, store, metrics) if run_sync else None
        if agent is not None:
            await agent.start()
        app.state.sync_agent = agent
        faces = FaceService(settings, store)
        await faces.start()
        app.state.faces = faces
        capture = (await _start_capture(settings, store, faces) if settings.capture_enabled
                   else None)
        app.state.capture = capture
        structlog.get_logger().info(
            "edge_agent_started", site_id=settings.site_id, sync=run_sync, version=__version__
        )
        try:
            yield
        finally:
            if capture is not None:
                await capture.stop()
            await faces.stop()
            if agent is not None:
                await agent.stop()
            app.state.sync_agent = None
            await store.close()

    app = FastAPI(
        title="Anchang 案场边缘节点 API",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # A broken brand file stops the agent here, not at the first camera.
    app.state.firmware = firmware.load(settings.firmware_configs_dir,
                                       parsers=set(face_events.PARSERS))
    app.state.sync_agent = None
    app.state.capture = None
    app.state.faces = None
    app.state.metrics = metrics
    app.state.lookup_limiter = LookupLimiter(settings.kiosk_lookup_per_minute)
    configure_logging("edge", settings.log_level)
    install_problem_handlers(app)
    install_api_docs(app, API_PREFIX)
    install_request_middleware(app, registry, "anchang_edge", access_log=settings.access_log)
    app.add_middleware(InputGuardMiddleware, max_body_bytes=MAX_BODY_BYTES)
    # The consultant PWA falls back to the cloud when this appliance is out of reach.
    cloud = origin_of(settings.cloud_public_url or settings.cloud_url)
    install_browser_hardening(app, settings, connect_src=[cloud] if cloud else [])
    app.include_router(health.router)
    app.include_router(kiosk_router, prefix=API_PREFIX)
    app.include_router(rota_router, prefix=API_PREFIX)
    app.include_router(reception_staff_router, prefix=API_PREFIX)
    app.include_router(staff_router, prefix=API_PREFIX)
    app.include_router(followups_router, prefix=API_PREFIX)
    app.include_router(calls_kiosk_router, prefix=API_PREFIX)
    app.include_router(calls_staff_router, prefix=API_PREFIX)
    app.include_router(customers_router, prefix=API_PREFIX)
    app.include_router(cameras_router, prefix=API_PREFIX)
    app.include_router(faces_router, prefix=API_PREFIX)
    app.include_router(faces_staff_router, prefix=API_PREFIX)
    # The kiosk tablet's and the consultants' apps, built by `make web`.
    mount_spa(app, "/kiosk", WEB / "kiosk" / "dist")
    mount_spa(app, "/pwa", WEB / "pwa" / "dist")
    return app
