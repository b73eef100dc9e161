"""Fixtures of the edge agent tests: real SQLite files, the real Mosquitto, a fake cloud."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.sync.agent import SyncAgent
from edge_agent.sync.metrics import SyncMetrics
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import BROKER, make_settings, settings_like
from tests.fakes.rtsp import rtsp_lobby
from tests.services import require

__all__ = ["rtsp_lobby"]  # the RTSP camera (tests/fakes/rtsp.py), for cameras and faces


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def edge_settings(tmp_path: Path) -> EdgeSettings:
    return make_settings(tmp_path)


@pytest.fixture
async def store(edge_settings: EdgeSettings) -> AsyncIterator[Store]:
    opened = await Store.open(edge_settings.database_path)
    yield opened
    await opened.close()


@pytest.fixture
def broker() -> tuple[str, int]:
    require("Mosquitto", *BROKER)
    return BROKER


@pytest.fixture
def cloud(broker: tuple[str, int], edge_settings: EdgeSettings) -> Iterator[FakeCloud]:
    fake = FakeCloud(edge_settings.site_id, edge_settings.site_key_bytes, *broker).start()
    yield fake
    fake.stop()


StartAgent = Callable[..., Awaitable[SyncAgent]]


@pytest.fixture
async def start_agent(store: Store, edge_settings: EdgeSettings) -> AsyncIterator[StartAgent]:
    """`await start_agent(**setting_overrides)` → a running SyncAgent on `store`."""
    started: list[SyncAgent] = []

    async def start(**overrides: Any) -> SyncAgent:
        settings = settings_like(edge_settings, **overrides)
        agent = SyncAgent(settings, store, SyncMetrics(CollectorRegistry()))
        await agent.start()
        started.append(agent)
        return agent

    yield start
    for agent in started:
        await agent.stop()
