"""The cloud FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from prometheus_client import CollectorRegistry
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cloud import health
from cloud.audit import service as audit_service
from cloud.audit.api import router as audit_router
from cloud.audit.denials import DenialLimiter
from cloud.cameras.api import router as cameras_router
from cloud.catalog.api import router as catalog_router
from cloud.channel.analytics_api import router as analytics_router
from cloud.channel.api import router as channel_router
from cloud.channel.appeals_api import evidence_upload_route
from cloud.channel.appeals_api import router as appeals_router
from cloud.channel.evidence_store import from_settings as evidence_store
from cloud.channel.guided_api import router as channel_guided_router
from cloud.channel.judging_api import router as judging_router
from cloud.channel.leads_api import router as leads_router
from cloud.channel.leads_api import timeline_router as lead_timeline_router
from cloud.channel.limits import from_settings as referral_limiter
from cloud.channel.listing_api import router as channel_listing_router
from cloud.channel.prospecting_api import router as prospecting_router
from cloud.channel.risk_api import router as risk_router
from cloud.channel.share_limits import from_settings as share_limiter
from cloud.channel.signin.api import parts as sign_in_parts
from cloud.channel.signin.jssdk import JSSDK_ORIGIN
from cloud.compression import CompressionMiddleware
from cloud.db import install_connection_gate, make_engine, size_thread_pool
from cloud.deals.api import router as deals_router
from cloud.faces.api import router as faces_router
from cloud.identity.api import router as identity_router
from cloud.identity.deps import publish_bearer_auth
from cloud.identity.networks import ConsoleNetworkMiddleware
from cloud.identity.principal_listener import PrincipalServing
from cloud.identity.throttle import from_settings as login_throttle
from cloud.inventory.api import import_upload_route
from cloud.inventory.api import router as inventory_router
from cloud.privacy.api import router as privacy_router
from cloud.reception.api import projects as reception_projects_router
from cloud.reception.api import router as reception_router
from cloud.sales.analysis_api import router as sales_analysis_router
from cloud.sales.api import router as sales_router
from cloud.sales.ownership_api import router as ownership_router
from cloud.settings import CloudSettings
from cloud.sync.api import router as sync_router
from cloud.sync.consumer import SyncConsumer
from shared.apidocs import install_api_docs
from shared.browser import install_browser_hardening
from shared.http import install_request_middleware
from shared.inputguard import InputGuardMiddleware
from shared.logs import configure_logging
from shared.problem import install_problem_handlers
from shared.static import mount_spa

API_PREFIX = "/api/v1"
# The largest request the console sends is a scope of 500 sites; follow-up notes are
# short. The appliances' events come over MQTT, not here.
MAX_BODY_BYTES = 64 * 1024
# Built by `make web` (npm ci && vite build in cloud/web); absent in a bare checkout.
CONSOLE_DIST = Path(__file__).parent / "web" / "dist"
# The brokers' mobile H5 (cloud/h5), built the same way.
H5_DIST = Path(__file__).parent / "h5" / "dist"


def create_app(settings: CloudSettings | None = None) -> FastAPI:
    settings = settings or CloudSettings()
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         wait_seconds=settings.db_wait_seconds, pre_ping=settings.db_pre_ping)
    principals = PrincipalServing(engine, settings.principal_cache_seconds,
                                  settings.database_listen_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        size_thread_pool(app)
        principals.start()
        consumer = None
        if settings.sync_enabled:
            consumer = SyncConsumer(settings, engine)
            consumer.start()
        app.state.sync_consumer = consumer
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop()
            principals.stop()
            engine.dispose()

    app = FastAPI(
        title="Anchang 云端 API",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    audit_service.configure(shards=settings.audit_chain_shards)
    app.state.sync_consumer = None
    app.state.principal_cache = principals.cache
    app.state.denial_limiter = DenialLimiter()
    install_connection_gate(app, size=settings.db_pool_size,
                            wait_seconds=settings.db_wait_seconds)
    app.state.login_throttle = login_throttle(settings)
    app.state.referral_limiter = referral_limiter(settings)
    app.state.share_limiter = share_limiter(settings)
    app.state.sign_in = sign_in_parts(settings)
    app.state.evidence_store = evidence_store(settings)
    configure_logging("cloud")
    install_problem_handlers(app)
    install_api_docs(app, API_PREFIX)
    install_request_middleware(app, CollectorRegistry(), "anchang_cloud",
                               access_log=settings.access_log)
    app.add_middleware(CompressionMiddleware, min_bytes=settings.gzip_min_bytes)
    app.add_middleware(InputGuardMiddleware, max_body_bytes=MAX_BODY_BYTES,
                       uploads=[evidence_upload_route(API_PREFIX, settings),
                                 import_upload_route(API_PREFIX)])
    if settings.console_networks:
        app.add_middleware(ConsoleNetworkMiddleware, networks=settings.console_networks)
    if settings.trusted_proxies:
        # Outside the request middleware, so logs, audit and login limits all see the real
        # client; X-Forwarded-For from anyone not listed is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if settings.cors_origins:
        # The consultant PWA, served by a sales office's edge, falls back to this API.
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
            allow_methods=["GET", "POST"], max_age=600,
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match"],
            # The 销控表's ETag, which the PWA sends back to poll it cheaply (ADR 0032).
            expose_headers=["ETag"],
        )
    # The broker H5 loads WeChat's JS-SDK from WeChat inside WeChat (ADR 0049).
    install_browser_hardening(app, settings, scripts_by_path={"/h5": [JSSDK_ORIGIN]})
    app.include_router(health.router)
    for router in (identity_router, audit_router, catalog_router, sales_analysis_router,
                   sales_router, sync_router,
                   privacy_router, channel_router, judging_router, channel_listing_router,
                   appeals_router, risk_router, prospecting_router, analytics_router,
                   leads_router, lead_timeline_router, channel_guided_router, inventory_router,
                   ownership_router, cameras_router, reception_router, deals_router,
                   faces_router, reception_projects_router):
        app.include_router(router, prefix=API_PREFIX)
    publish_bearer_auth(app)
    mount_spa(app, "/h5", H5_DIST)
    if mount_spa(app, "/console", CONSOLE_DIST):

        @app.get("/", include_in_schema=False)
        def home() -> RedirectResponse:
            return RedirectResponse("/console/")

    return app
