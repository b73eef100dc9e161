"""The demo's in-process broker: password file and per-site topic confinement."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.embedded_broker import EmbeddedBroker
from tests.integration.mosquitto import free_port
from tests.integration.peer import wait_for


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    loop = asyncio.new_event_loop()
    broker = EmbeddedBroker(port=port, workdir=tmp_path, cloud_username="anchang-cloud",
                            users={"anchang-cloud": "cloud-pw", "site-a1": "a-pw",
                                   "site-b1": "b-pw"},
                            sites={"site-a1": "a1", "site-b1": "b1"})
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(broker.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield port
    asyncio.run_coroutine_threadsafe(broker.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def client(port: int, user: str, password: str, received: list[str] | None = None
           ) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}", protocol=mqtt.MQTTv311)
    c.username_pw_set(user, password)
    if received is not None:
        c.on_message = lambda _c, _u, msg: received.append(msg.topic)
    connected = threading.Event()

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            connected.set()

    c.on_connect = on_connect
    c.connect("127.0.0.1", port)
    c.loop_start()
    if not connected.wait(5):
        c.loop_stop()
        raise ConnectionRefusedError(user)
    return c


def test_sites_are_confined_to_their_topics_and_passwords_are_checked(embedded: int) -> None:
    seen: list[str] = []
    cloud = client(embedded, "anchang-cloud", "cloud-pw", seen)
    cloud.subscribe("anchang/v1/sites/+/up", qos=1)
    site_a = client(embedded, "site-a1", "a-pw")
    try:
        site_a.publish("anchang/v1/sites/b1/up", b"forged", qos=1).wait_for_publish(5)
        site_a.publish("anchang/v1/sites/a1/up", b"own", qos=1).wait_for_publish(5)
        wait_for(lambda: "anchang/v1/sites/a1/up" in seen, what="the site's own message")
        assert "anchang/v1/sites/b1/up" not in seen
    finally:
        for c in (cloud, site_a):
            c.disconnect()
            c.loop_stop()
    with pytest.raises(ConnectionRefusedError):
        client(embedded, "site-a1", "wrong")
