"""End-to-end fixtures: the whole stack running for real — PostgreSQL, Mosquitto with the
generated ACL, the cloud API with its sync consumer and console, the edge agent process
with kiosk and PWA — driven by Playwright in Debian's Chromium.

Screenshots land in docs/manual/images/, where the Chinese user manual embeds them.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.catalog.models import Project
from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.main import create_app
from cloud.settings import CloudSettings
from cloud.sync import provision
from shared.crypto import decode_key
from shared.timeutil import SHANGHAI
from tests.bench.report import DOCS
from tests.conftest import truncate_all
from tests.integration.conftest import (
    CLOUD_MQTT_PASSWORD,
    ProvisionedSite,
    consumer_settings,
)
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto, free_port
from tests.integration.peer import wait_for
from tests.services import unavailable

CHROMIUM = "/usr/bin/chromium"
MANUAL_IMAGES = DOCS / "manual" / "images"
PASSWORD = "E2e#Anchang-2026"
SITE_ID = "e2e-site"
SITE_NAME = "上海·星河湾案场"
# The field engineer's token for the appliance's camera page.
ENGINEER_TOKEN = "e2e-engineer-token-0123456789abcdef"

# username, display name, roles, site-scoped (else all sites)
PEOPLE = [
    ("admin", "总部管理员", ["sys_admin"], False),
    ("security", "安全管理员", ["security_admin"], False),
    ("auditor", "审计管理员", ["audit_admin"], False),
    ("wanglei", "王磊", ["consultant"], True),
    ("lina", "李娜", ["consultant"], True),
    ("qiantai", "前台小周", ["receptionist"], True),
]


@dataclass
class Stack:
    cloud_url: str
    edge: EdgeProcess
    site: ProvisionedSite
    user_ids: dict[str, int]
    engine: Engine
    settings: CloudSettings
    broker: Mosquitto | None = None  # the edge's and cloud's broker: stop it to cut the link

    @property
    def edge_url(self) -> str:
        return self.edge.url


def _require_browser() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    unavailable(f"{CHROMIUM} is missing (make test installs Debian's chromium)")


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot own signals
        pass


@pytest.fixture(scope="module")
def stack(pg_url: str, settings: CloudSettings, engine: Engine,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One running system per test module; its data is wiped at the end."""
    workdir = tmp_path_factory.mktemp("e2e")
    with Session(engine) as session:
        creds = provision.provision_site(session, settings=settings, site_id=SITE_ID,
                                         name=SITE_NAME, projects=["星河湾一期"])
        ids: dict[str, int] = {}
        for username, display, roles, scoped in PEOPLE:
            user = identity_service.create_user(
                session, username=username, password=PASSWORD, display_name=display,
                roles=roles, site_ids=[SITE_ID] if scoped else [], scope_all=not scoped,
                must_change_password=False, actor="e2e")
            assert user.id is not None
            ids[username] = user.id
        # As in the demo: the security administrator grants the administrator a role that
        # unmasks personal data, explicitly.
        security = session.get(User, ids["security"])
        assert security is not None
        granter = identity_service.load_principal(session, user=security, ip=None)
        identity_service.set_roles(session, principal=granter, user_id=ids["admin"],
                                   roles=["sys_admin", "hq_manager"], personal_data_grant=True)
        session.commit()
        project = session.exec(select(Project).where(Project.site_id == SITE_ID)).one()
    site = ProvisionedSite(SITE_ID, project.id or 0, decode_key(creds.site_key),
                           creds.site_key, creds.mqtt_username, creds.mqtt_password)
    with Session(engine) as session:
        files = provision.broker_files_for(session, cloud_password=CLOUD_MQTT_PASSWORD)
    broker = Mosquitto(workdir / "broker", files)
    broker.start()
    port = free_port()
    # The consultant PWA logs in through the edge, which asks the cloud; the PWA (served
    # by the edge) may call the cloud from the browser when the edge is out of reach.
    edge = EdgeProcess(workdir / "edge", site, broker.port,
                       cloud_url=f"http://127.0.0.1:{port}", engineer_token=ENGINEER_TOKEN)
    # Every browser, the edge and the helpers sign in from 127.0.0.1: lift the per-source
    # login limit (the locks per account and source stay as in production).
    cloud_settings = consumer_settings(settings, broker, sync_enabled=True,
                                       mqtt_client_id="e2e-cloud", cors_origins=[edge.url],
                                       login_ip_limit=10_000)
    try:
        with serve_cloud(cloud_settings, port) as cloud_url:
            edge.start()
            wait_for(lambda: edge.get("/api/v1/kiosk/consultants").json(), timeout=30,
                     what="the roster on the edge")
            try:
                yield Stack(cloud_url, edge, site, ids, engine, cloud_settings, broker)
            finally:
                edge.stop()
                broker.stop()
    finally:
        # Once the cloud has stopped: a request or a synced batch still running in it
        # took its locks in another order than TRUNCATE and deadlocked with it.
        truncate_all(engine)


@contextmanager
def serve_cloud(settings: CloudSettings, port: int | None = None) -> Iterator[str]:
    """The cloud app with its console on `settings`' database, in a thread; its URL."""
    port = port or free_port()
    server = _Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                    log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=20, what="the cloud server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's sync API holds an event loop on the main thread while it
    runs, which must be gone before the asyncio tests of other folders start."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield chromium
        chromium.close()


VIEWPORTS = {
    "console": {"width": 1440, "height": 900},
    "kiosk": {"width": 1280, "height": 800},  # a landscape tablet
    "kiosk-portrait": {"width": 800, "height": 1280},  # the same tablet upright
    "phone": {"width": 390, "height": 844},  # a portrait phone
}


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """`new_page("kiosk")` → a page in a fresh zh-CN, Asia/Shanghai context."""
    contexts: list[Any] = []

    def make(kind: str, **options: Any) -> Any:
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORTS[kind],
            is_mobile=kind == "phone", has_touch=kind != "console", **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def beijing_minutes(around: datetime, pattern: str = "%Y-%m-%d %H:%M") -> re.Pattern[str]:
    """`around` or the minute after in Beijing, as a screen prints a time to the minute."""
    return re.compile("|".join(
        re.escape((around + timedelta(minutes=m)).astimezone(SHANGHAI).strftime(pattern))
        for m in (0, 1)))


def screenshot(page: Any, name: str) -> Path:
    """Save a manual screenshot (docs/manual/images/<name>.png under `make manual`, else
    build/docs-preview/…) and return its path."""
    MANUAL_IMAGES.mkdir(parents=True, exist_ok=True)
    path = MANUAL_IMAGES / f"{name}.png"
    # Transitions fast-forwarded: a dialog is shown whole, not half faded in.
    page.screenshot(path=str(path), full_page=False, animations="disabled")
    return path
