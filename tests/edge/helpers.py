"""Helpers of the edge tests: settings with fresh keys, waiting on conditions."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from shared.crypto import new_key
from tests.consent import consent_in

KIOSK_TOKEN = "kiosk-token-for-tests-0123456789"
BROKER = ("127.0.0.1", 1883)


def unique_site_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def settings_env(tmp_path: Path, **overrides: Any) -> dict[str, str]:
    """ANCHANG_EDGE_* variables of a fresh site (for subprocesses)."""
    values: dict[str, Any] = {
        "site_id": unique_site_id(),
        "site_key": new_key(),
        "data_keys": f"k1:{new_key()}",
        "kiosk_token": KIOSK_TOKEN,
        "database_path": str(tmp_path / "edge.db"),
        "default_project_id": 1,
        "sync_enabled": False,
        "mqtt_host": BROKER[0],
        "mqtt_port": BROKER[1],
        "mqtt_session_expiry_seconds": 120,
        "down_poll_seconds": 0.5,
        "status_interval_seconds": 1,
    }
    values.update(overrides)
    return {f"ANCHANG_EDGE_{k.upper()}": str(v) for k, v in values.items() if v is not None}


def make_settings(tmp_path: Path, **overrides: Any) -> EdgeSettings:
    env = settings_env(tmp_path, **overrides)
    values = {k.removeprefix("ANCHANG_EDGE_").lower(): v for k, v in env.items()}
    return EdgeSettings(_env_file=None, **values)  # type: ignore[arg-type]


def env_of(settings: EdgeSettings) -> dict[str, str]:
    """The ANCHANG_EDGE_* variables that reproduce `settings` in a child process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"ANCHANG_EDGE_{name.upper()}"] = str(value)
    return env


def settings_like(settings: EdgeSettings, **overrides: Any) -> EdgeSettings:
    """The same site (keys, database) with some settings changed, validated afresh (a
    model copy would keep the cached keys and cipher of the original)."""
    values: dict[str, Any] = {
        k.removeprefix("ANCHANG_EDGE_").lower(): v for k, v in env_of(settings).items()
    }
    values.update(overrides)
    return EdgeSettings(_env_file=None, **values)


async def eventually(
    predicate: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    within: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Poll `predicate` until it returns a truthy value (returned); fail after `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)


def wait_sync(
    predicate: Callable[[], Any], *, within: float = 10.0, what: str = "condition"
) -> Any:
    """`eventually` for plain (non-async) tests."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        time.sleep(0.05)


async def register_many(store: Store, settings: EdgeSettings, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        await register_visit(store, settings, VisitIn(phone=f"1360000{i:04d}", party_size=1,
                                                      consent=consent_in()))


async def backlog(store: Store) -> outbox.Backlog:
    return await store.read(outbox.backlog)


def outbox_seqs(settings: EdgeSettings) -> list[int]:
    with sqlite3.connect(settings.database_path) as db:
        # What waits for the cloud (acked rows stay for the retention window).
        return [r[0] for r in db.execute(
            "SELECT seq FROM outbox WHERE acked_at IS NULL ORDER BY seq")]
