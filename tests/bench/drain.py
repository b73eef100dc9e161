"""The sync drain measurement, shared by the benchmark (10,000 visits) and its short
seeded run in the ordinary suite: visits queued on an offline edge drain into PostgreSQL
after reconnect, each exactly once. The bare ceilings of the same work — the broker
carrying as many QoS 1 messages between two paho clients, and PostgreSQL taking as many
rows in transactions of the consumer's batch size — are measured in the same run."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.store import Store
from tests.integration.conftest import CLOUD_MQTT_PASSWORD, ProvisionedSite
from tests.integration.consumer_process import ConsumerProcess
from tests.integration.edge_process import EdgeProcess, edge_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for


@dataclass(frozen=True)
class DrainResult:
    visits: int
    seconds: float
    cloud_rows: int
    broker_ceiling_seconds: float
    database_ceiling_seconds: float

    @property
    def rate(self) -> float:
        return self.visits / self.seconds


async def _queue_visits(settings_path: Path, edge: EdgeProcess, project_id: int,
                        count: int) -> None:
    settings = edge_settings(edge, default_project_id=project_id, sync_enabled=False)
    store = await Store.open(settings_path)
    try:
        for i in range(count):
            await register_visit(store, settings, VisitIn(
                project_id=project_id, phone=f"135{i:08d}", name="测试", party_size=1 + i % 4,
            ), idempotency_key=f"bench-{i}")
    finally:
        await store.close()


def _cloud_count(engine: Engine, site_id: str) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(Visit)
                          .where(Visit.site_id == site_id)).one())


def broker_ceiling(broker: Mosquitto, count: int) -> float:
    """Seconds for `count` QoS 1 messages of a visit's size from one paho client to another."""
    received = threading.Event()
    got = 0

    def on_message(*_: object) -> None:
        nonlocal got
        got += 1
        if got == count:
            received.set()

    def client(name: str) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        c.username_pw_set("anchang-cloud", CLOUD_MQTT_PASSWORD)
        c.connect("127.0.0.1", broker.port)
        c.loop_start()
        return c

    sub, pub = client("ceiling-sub"), client("ceiling-pub")
    sub.on_message = on_message
    sub.subscribe("anchang/v1/sites/ceiling/up", qos=1)[1]
    time.sleep(0.3)
    payload = b"x" * 600
    started = time.perf_counter()
    for _ in range(count):
        pub.publish("anchang/v1/sites/ceiling/up", payload, qos=1)
    assert received.wait(120), f"broker ceiling: {got}/{count} delivered"
    elapsed = time.perf_counter() - started
    for c in (sub, pub):
        c.disconnect()
        c.loop_stop()
    return elapsed


def database_ceiling(url: str, count: int, batch: int) -> float:
    """Seconds for `count` rows of a visit's width in transactions of `batch` rows."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS ceiling_rows "
                          "(id serial primary key, a text, b text, c int, t timestamptz)"))
    rows = [{"a": "x" * 60, "b": "y" * 60, "c": i} for i in range(count)]
    started = time.perf_counter()
    with engine.connect() as conn:
        for i in range(0, count, batch):
            with conn.begin():
                conn.execute(text("INSERT INTO ceiling_rows (a, b, c, t) "
                                  "VALUES (:a, :b, :c, now())"), rows[i:i + batch])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run_drain(*, workdir: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
              site: ProvisionedSite, count: int, timeout: float) -> DrainResult:
    edge = EdgeProcess(workdir / "edge", site, broker.port, sync_window="1000",
                       default_project_id=str(site.project_id))
    asyncio.run(_queue_visits(workdir / "edge" / "edge.db", edge, site.project_id, count))
    consumer = ConsumerProcess(workdir, settings, broker.port)
    consumer.start()
    try:
        started = time.perf_counter()
        edge.start()
        wait_for(lambda: _cloud_count(engine, site.site_id) >= count, timeout=timeout,
                 what=f"{count} visits in PostgreSQL")
        elapsed = time.perf_counter() - started
        wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
                 timeout=30, what="the edge outbox to drain")
    finally:
        edge.stop()
        consumer.stop()
    rows = _cloud_count(engine, site.site_id)
    return DrainResult(
        visits=count, seconds=elapsed, cloud_rows=rows,
        broker_ceiling_seconds=broker_ceiling(broker, count),
        database_ceiling_seconds=database_ceiling(settings.database_url, count,
                                                  settings.sync_batch_size),
    )
