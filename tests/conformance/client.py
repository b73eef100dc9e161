"""A raw MQTT 5 client playing the edge (§1): it publishes bytes the test built and keeps
every answer the cloud sends on the site's `ack` and `down` topics, checked against §4."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.conformance import wire

ANSWER_TIMEOUT = 10.0


def wait_for(predicate: Callable[[], Any], timeout: float = ANSWER_TIMEOUT,
             what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.02)


class Edge:
    """One connection with a site's broker credentials. `epoch` and `instance` are the
    identity its envelopes and statuses carry unless a test says otherwise."""

    def __init__(self, host: str, port: int, username: str, password: str, site_id: str,
                 key: bytes, *, subscribe: bool = True, mqtt5: bool = True) -> None:
        self.site_id = site_id
        self.key = key
        self.epoch = wire.uid()
        self.instance = wire.uid()
        self.acks: list[dict[str, Any]] = []
        self.offers: list[str | None] = []  # §4.7: each Ack's batch offer, as received
        self.batches: list[dict[str, Any]] = []
        self.raw_batches: list[bytes] = []
        self.pubacks: dict[int, int] = {}
        self.errors: list[str] = []  # answers that broke §2–§4
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._subscribe = subscribe
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"conformance-{uuid.uuid4()}",
                                  protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        assert self._ready.wait(10), "the conformance client did not connect"

    def _on_connect(self, client: mqtt.Client, _: Any, __: Any, reason: Any, ___: Any) -> None:
        if reason.is_failure:
            return
        if not self._subscribe:
            self._ready.set()
            return
        client.subscribe([(wire.topic(self.site_id, "ack"), 1),
                          (wire.topic(self.site_id, "down"), 1)])

    def _on_message(self, _: mqtt.Client, __: Any, msg: mqtt.MQTTMessage) -> None:
        raw = bytes(msg.payload)
        with self._lock:
            try:
                if msg.topic == wire.topic(self.site_id, "ack"):
                    self.acks.append(wire.check_ack(raw, self.key, self.site_id))
                    pairs = getattr(msg.properties, "UserProperty", None) or []
                    self.offers.append(dict(pairs).get(wire.UP_BATCH_PROPERTY))
                elif msg.topic == wire.topic(self.site_id, "down"):
                    self.raw_batches.append(raw)
                    self.batches.append(wire.check_down_batch(raw, self.key, self.site_id))
            except (AssertionError, ValueError) as error:
                # Raised here it would kill paho's thread; the test reads it instead.
                self.errors.append(f"{msg.topic}: {error!r} in {raw[:300]!r}")

    def _on_publish(self, _: mqtt.Client, __: Any, mid: int, reason: Any, ___: Any) -> None:
        self.pubacks[mid] = int(getattr(reason, "value", 0))

    # ---- sending -------------------------------------------------------------------

    def publish(self, suffix: str, payload: bytes, *, qos: int = 1, retain: bool = False,
                topic: str | None = None) -> int:
        """Publish raw bytes on this site's `suffix` topic (or on `topic`); returns the
        PUBACK reason code (0 for QoS 0)."""
        info = self.client.publish(topic or wire.topic(self.site_id, suffix), payload,
                                   qos=qos, retain=retain)
        info.wait_for_publish(10)
        if qos == 0:
            return 0
        return int(wait_for(lambda: info.mid in self.pubacks, what="PUBACK")
                   and self.pubacks[info.mid])

    def envelope(self, seq: int, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
        fields.setdefault("epoch", self.epoch)
        fields.setdefault("instance", self.instance)
        return wire.envelope(self.site_id, seq, payload, **fields)

    def send(self, message: dict[str, Any], **publish: Any) -> int:
        """Sign an envelope with the site key and publish it on `up`."""
        return self.publish("up", wire.wire(message, self.key), **publish)

    def send_batch(self, events: list[dict[str, Any]], **publish: Any) -> int:
        """Sign each envelope and publish them together as one `up` message (§4.7)."""
        signed = [wire.sign(event, self.key) for event in events]
        return self.publish("up", wire.canonical(wire.up_batch(self.site_id, signed)),
                            **publish)

    def send_status(self, **fields: Any) -> dict[str, Any]:
        fields.setdefault("epoch", self.epoch)
        fields.setdefault("instance", self.instance)
        message = wire.status(self.site_id, **fields)
        self.publish("status", wire.wire(message, self.key))
        return message

    def ask(self, cursor: int, **fields: Any) -> dict[str, Any]:
        """Send a DownRequest and wait for the batch that answers it."""
        assert not self.errors, self.errors
        before = len(self.batches)
        self.publish("down/req", wire.wire(wire.down_request(self.site_id, cursor, **fields),
                                           self.key))
        return wait_for(lambda: len(self.batches) > before and self.batches[before],
                        what=f"the down batch after cursor {cursor}")

    def feed(self, limit: int = 2000) -> dict[tuple[str, str], dict[str, Any]]:
        """The site's whole down-feed from cursor 0, page by page: (kind, key) → data of
        the latest item (§10)."""
        state: dict[tuple[str, str], dict[str, Any]] = {}
        cursor, generation = 0, None
        while True:
            batch = self.ask(cursor, generation=generation, limit=limit)
            for item in batch["items"]:
                state[(item["kind"], item["key"])] = item["data"]
            cursor, generation = batch["next_cursor"], batch["generation"]
            if not batch["more"]:
                return state

    def customer(self, project_id: int, phone: str) -> dict[str, Any] | None:
        """The down-feed's customer item for (project, phone), if any (§10)."""
        key = f"{project_id}:{wire.phone_bidx(self.key, phone)}"
        return self.feed().get(("customer", key))

    # ---- reading answers -----------------------------------------------------------

    def ack_count(self) -> int:
        with self._lock:
            return len(self.acks)

    def wait_ack(self, predicate: Callable[[dict[str, Any]], bool], *, after: int = 0,
                 timeout: float = ANSWER_TIMEOUT, what: str = "") -> dict[str, Any]:
        """The first Ack (from index `after` on) that satisfies `predicate`."""
        def find() -> dict[str, Any] | None:
            with self._lock:
                assert not self.errors, self.errors
                return next((a for a in self.acks[after:] if predicate(a)), None)
        return wait_for(find, timeout, what or "an ack")  # type: ignore[no-any-return]

    def acked(self, seq: int, **kw: Any) -> dict[str, Any]:
        return self.wait_ack(lambda a: a["acked_seq"] >= seq, what=f"ack ≥ {seq}", **kw)

    def answer_to(self, status: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """The Ack that answers `status` (§7: it echoes the status's edge_time)."""
        return self.wait_ack(lambda a: a["echo"] == status["edge_time"]
                             and a["instance"] == status["instance"],
                             what="the answer to the status", **kw)

    def rejection(self, seq: int | None, reason: str, **kw: Any) -> dict[str, Any]:
        """The entry of `rejected` naming (seq, reason), from any Ack."""
        ack = self.wait_ack(lambda a: any(r["seq"] == seq and r["reason"] == reason
                                          for r in a["rejected"]),
                            what=f"a rejection {reason} of seq {seq}", **kw)
        return next(r for r in ack["rejected"] if r["seq"] == seq and r["reason"] == reason)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
