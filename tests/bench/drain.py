"""The sync drain measurement, shared by the benchmark (10,000 visits) and its short
seeded run in the ordinary suite: visits queued on an offline edge drain into PostgreSQL
after reconnect, each exactly once. The bare ceilings of the same work — the broker
carrying as many QoS 1 messages between two paho clients, and PostgreSQL taking as many
rows in transactions of the consumer's batch size — are measured in the same run.

The drain is timed from the edge's MQTT connection (its `mqtt_connected` log line) to the
last visit committed, as the ceilings are timed from connected clients; the time from
the agent's process start is kept beside it. Optionally the kiosk keeps registering
through its HTTP API at a steady rate during the drain, and the latency of those
registrations is measured, then again at the same rate once the backlog is gone."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
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
from tests.bench.cpu import cpu_seconds, postgres_cpu_seconds
from tests.consent import consent_in
from tests.integration.conftest import CLOUD_MQTT_PASSWORD, ProvisionedSite
from tests.integration.consumer_process import ConsumerProcess
from tests.integration.edge_process import EdgeProcess, edge_settings
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

# The edge's send window in the benchmark: enough events in flight to keep the
# consumer's batches full (ANCHANG_EDGE_SYNC_WINDOW; the agent's default is 500).
SYNC_WINDOW = 1000


@dataclass(frozen=True)
class Registrations:
    """Kiosk registrations through the HTTP API at a steady rate: latencies in seconds."""

    rate: float
    latencies: list[float]
    failures: int

    def quantile(self, q: float) -> float:
        return statistics.quantiles(self.latencies, n=100)[int(q * 100) - 1]


@dataclass(frozen=True)
class DrainResult:
    visits: int  # queued before the edge came back
    seconds: float  # from the edge's MQTT connect to the last of them committed
    from_start_seconds: float  # the same, from the agent's process start
    cloud_rows: int  # visits of the site in the cloud at the end
    broker_ceiling_seconds: float
    database_ceiling_seconds: float
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # per process, during it
    during: Registrations | None = None  # registered while the backlog drained
    after: Registrations | None = None  # the same load once it had drained

    @property
    def rate(self) -> float:
        return self.visits / self.seconds

    @property
    def registered(self) -> int:
        return sum(len(r.latencies) for r in (self.during, self.after) if r is not None)


async def queue_visits(settings_path: Path, edge: EdgeProcess, project_id: int,
                        count: int) -> None:
    settings = edge_settings(edge, default_project_id=project_id, sync_enabled=False)
    store = await Store.open(settings_path)
    try:
        for i in range(count):
            await register_visit(store, settings, VisitIn(
                project_id=project_id, phone=f"135{i:08d}", name="测试", party_size=1 + i % 4,
                    consent=consent_in()), idempotency_key=f"bench-{i}")
    finally:
        await store.close()


def cloud_count(engine: Engine, site_id: str) -> int:
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


def _connected_at(log: Path) -> float:
    """When the agent's MQTT link first came up (epoch seconds), from its JSON log."""
    for line in log.read_text().splitlines():
        if '"mqtt_connected"' in line:
            stamp = json.loads(line)["timestamp"].replace("Z", "+00:00")
            return datetime.fromisoformat(stamp).timestamp()
    raise AssertionError(f"no mqtt_connected in {log}")


class _Kiosk(threading.Thread):
    """Registers new visitors through the kiosk API at `rate` per second until stopped."""

    def __init__(self, edge: EdgeProcess, project_id: int, rate: float, prefix: str) -> None:
        super().__init__(name=f"kiosk-{prefix}", daemon=True)
        self.edge, self.project_id, self.rate, self.prefix = edge, project_id, rate, prefix
        self.latencies: list[float] = []
        self.failures = 0
        self.halt = threading.Event()

    def run(self) -> None:
        started = time.perf_counter()
        i = 0
        while not self.halt.is_set():
            due = started + i / self.rate
            if self.halt.wait(max(due - time.perf_counter(), 0)):
                return
            sent = time.perf_counter()
            response = self.edge.register({
                "project_id": self.project_id, "phone": f"139{self.prefix}{i:07d}",
                "name": "李四", "party_size": 2})
            if response.status_code == 201:
                self.latencies.append(time.perf_counter() - sent)
            else:
                self.failures += 1
            i += 1

    def result(self) -> Registrations:
        self.halt.set()
        self.join(30)
        return Registrations(self.rate, self.latencies, self.failures)


def run_drain(*, workdir: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
              site: ProvisionedSite, count: int, timeout: float,
              registrations_per_second: float | None = None,
              after_seconds: float = 10.0) -> DrainResult:
    edge = EdgeProcess(workdir / "edge", site, broker.port, sync_window=str(SYNC_WINDOW),
                       default_project_id=str(site.project_id))
    asyncio.run(queue_visits(workdir / "edge" / "edge.db", edge, site.project_id, count))
    consumer = ConsumerProcess(workdir / "consumer", settings, broker.port)
    consumer.start()
    during = after = None
    try:
        started = time.time()
        edge.start()
        assert edge.proc is not None
        assert consumer.proc is not None
        pids = {"edge agent": edge.proc.pid, "sync consumer": consumer.proc.pid}
        if broker.proc is not None:
            pids["Mosquitto"] = broker.proc.pid
        cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
        cpu["PostgreSQL"] = postgres_cpu_seconds()
        kiosk = None
        if registrations_per_second:
            kiosk = _Kiosk(edge, site.project_id, registrations_per_second, "1")
            kiosk.start()
        wait_for(lambda: cloud_count(engine, site.site_id) >= count, timeout=timeout,
                 what=f"{count} visits in PostgreSQL")
        finished = time.time()
        cpu = {name: cpu_seconds(pids[name]) - before if name in pids
               else postgres_cpu_seconds() - before for name, before in cpu.items()}
        if kiosk is not None:
            during = kiosk.result()
            kiosk = _Kiosk(edge, site.project_id, registrations_per_second or 1, "2")
            kiosk.start()
            time.sleep(after_seconds)
            after = kiosk.result()
        wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
                 timeout=30, what="the edge outbox to drain")
    finally:
        edge.stop()
        consumer.stop()
    result = DrainResult(
        visits=count, seconds=finished - _connected_at(edge.log),
        from_start_seconds=finished - started, cloud_rows=cloud_count(engine, site.site_id),
        broker_ceiling_seconds=broker_ceiling(broker, count),
        database_ceiling_seconds=database_ceiling(settings.database_url, count,
                                                  settings.sync_batch_size),
        cpu_seconds=cpu, during=during, after=after,
    )
    return result
