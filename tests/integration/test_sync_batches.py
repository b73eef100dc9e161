"""Batched `up` messages end to end (docs/sync-protocol.md §4.7, ADR 0036): the real
agent, Mosquitto, the consumer and PostgreSQL. The agent packs its backlog into batches
only when the cloud offers them, and every visit lands exactly once either way."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.engine import Engine

from cloud.settings import CloudSettings
from cloud.sync.consumer import SyncConsumer
from cloud.sync.credentials import CLOUD_MQTT_USERNAME
from shared.envelope import Topics
from tests.bench.drain import cloud_count, queue_visits
from tests.integration.conftest import CLOUD_MQTT_PASSWORD, ProvisionedSite, consumer_settings
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import wait_for

pytestmark = pytest.mark.integration

VISITS = 240


class UpWatcher:
    """Counts the events in each `up` message of one site, as the broker delivers them."""

    def __init__(self, broker: Mosquitto, site_id: str) -> None:
        self.sizes: list[int] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="up-watcher",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(CLOUD_MQTT_USERNAME, CLOUD_MQTT_PASSWORD)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(Topics(site_id).up, qos=1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "the watcher did not subscribe"

    def _on_message(self, _: mqtt.Client, __: object, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        with self._lock:
            self.sizes.append(len(body["events"]) if "events" in body else 1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.parametrize("offer", [100, 0])
def test_a_backlog_goes_in_batches_only_when_offered_and_lands_exactly_once(
    tmp_path: Path, engine: Engine, settings: CloudSettings, broker: Mosquitto,
    sites: tuple[ProvisionedSite, ...], offer: int,
) -> None:
    site = sites[0]
    edge = EdgeProcess(tmp_path / "edge", site, broker.port,
                       default_project_id=str(site.project_id))
    asyncio.run(queue_visits(tmp_path / "edge" / "edge.db", edge, site.project_id, VISITS))
    watcher = UpWatcher(broker, site.site_id)
    consumer = SyncConsumer(consumer_settings(settings, broker, sync_up_batch=offer), engine)
    consumer.start()
    try:
        assert consumer.wait_connected(), "the sync consumer did not connect"
        edge.start()
        wait_for(lambda: cloud_count(engine, site.site_id) >= VISITS, timeout=60,
                 what=f"{VISITS} visits in the cloud")
        wait_for(lambda: edge.get("/api/v1/kiosk/status").json()["backlog"] == 0,
                 what="the edge outbox to drain")
    finally:
        edge.stop()
        consumer.stop()
        watcher.close()
    assert cloud_count(engine, site.site_id) == VISITS
    sizes = watcher.sizes
    assert sum(sizes) >= VISITS
    if offer:
        assert 1 < max(sizes) <= offer
        assert len(sizes) < VISITS / 10, sizes
    else:
        assert set(sizes) == {1}
