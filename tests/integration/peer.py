"""A test-side MQTT peer that speaks the protocol as an edge would, message by message,
so a test controls order, duplicates, gaps and forgeries exactly."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shared.envelope import Ack, DownBatch, Envelope, ProtocolError, Status, Topics
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.wire import EPOCH, INSTANCE


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def visit_payload(project_id: int, phone: str, **extra: Any) -> dict[str, Any]:
    return {"visit_id": str(uuid.uuid4()), "project_id": project_id, "phone": phone,
            "name": "张三", "party_size": 2, "intent": "三房", **extra}


def envelope(site_id: str, key: bytes, seq: int, payload: dict[str, Any], *,
             occurred_at: datetime | None = None, sent_at: datetime | None = None,
             event_id: uuid.UUID | None = None, type_: str = VISIT_REGISTERED) -> Envelope:
    now = utcnow()
    return Envelope(
        epoch=EPOCH, instance=INSTANCE,
        site_id=site_id, seq=seq, event_id=event_id or uuid.uuid4(), type=type_,
                    occurred_at=occurred_at or now - timedelta(seconds=1),
                    sent_at=sent_at or now, payload=payload).signed(key)


class Peer:
    def __init__(self, port: int, username: str, password: str, site_id: str,
                 tls_ca: str | None = None) -> None:
        self.topics = Topics(site_id)
        self.acks: list[Ack] = []
        self.batches: list[DownBatch] = []
        self.puback_codes: dict[int, int] = {}
        self.suback_codes: dict[int, list[int]] = {}
        self.topics_seen: list[str] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"peer-{uuid.uuid4()}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        if tls_ca:
            self.client.tls_set(ca_certs=tls_ca)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._connected.wait(10), "peer did not connect"

    def _on_connect(self, client: mqtt.Client, _: Any, __: Any, reason: Any, ___: Any) -> None:
        if not reason.is_failure:
            client.subscribe([(self.topics.ack, 1), (self.topics.down, 1)])
            self._connected.set()

    def _on_message(self, _: mqtt.Client, __: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.topics_seen.append(msg.topic)
            try:
                if msg.topic == self.topics.ack:
                    self.acks.append(Ack.from_wire(msg.payload))
                elif msg.topic == self.topics.down:
                    self.batches.append(DownBatch.from_wire(msg.payload))
            except ProtocolError:
                pass  # tests send raw markers; only well-formed messages are collected

    def _on_publish(self, _: mqtt.Client, __: Any, mid: int, reason: Any, ___: Any) -> None:
        self.puback_codes[mid] = int(reason.value)

    def _on_subscribe(self, _: mqtt.Client, __: Any, mid: int, codes: list[Any], ___: Any
                      ) -> None:
        self.suback_codes[mid] = [int(c.value) for c in codes]

    def publish(self, topic: str, payload: bytes, retain: bool = False, qos: int = 1) -> int:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout=10)
        return int(info.mid)

    def send(self, env: Envelope) -> int:
        return self.publish(self.topics.up, env.to_wire())

    def send_status(self, key: bytes, *, edge_time: datetime | None = None,
                    skew: float | None = None, sampled_at: datetime | None = None,
                    **fields: Any) -> Status:
        """An online status of this peer's store; `skew` as measured `sampled_at`."""
        at = edge_time or utcnow()
        status = Status(site_id=self.topics.up.split("/")[3], epoch=EPOCH, instance=INSTANCE,
                        state="online", edge_time=at, clock_skew_seconds=skew,
                        skew_sampled_at=sampled_at or (at if skew is not None else None),
                        **fields).signed(key)
        self.publish(self.topics.status, status.to_wire())
        return status

    def last_ack(self) -> Ack | None:
        with self._lock:
            return self.acks[-1] if self.acks else None

    def wait_ack(self, acked_seq: int, timeout: float = 15.0) -> Ack:
        return wait_for(lambda: next((a for a in reversed(self.acks)
                                      if a.acked_seq >= acked_seq), None),
                        timeout, f"ack ≥ {acked_seq}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
