"""A test-side cloud peer over the real broker, speaking the sync protocol exactly.

It verifies every signature, adopts the epoch the appliance first presents, applies
up-stream envelopes idempotently by seq, answers an Ack (highest contiguous applied seq;
resend_from = first missing seq when it saw a gap) after "committing" and to every online
status (echoing its time), and serves a down-feed (DownBatch) from a list of items. Knobs
let a test stop acking, lose chosen deliveries (as a dropping broker would), page the
feed, hold another epoch than the appliance's, or offer batched `up` messages (§4.7) —
by default it offers none, as a cloud older than them.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from shared.envelope import (
    UP_BATCH_PROPERTY,
    Ack,
    DownBatch,
    DownItem,
    DownRequest,
    Envelope,
    ProtocolError,
    Rejection,
    Status,
    Topics,
    read_up,
)
from shared.timeutil import utcnow


@dataclass
class FakeCloud:
    site_id: str
    key: bytes
    host: str = "127.0.0.1"
    port: int = 1883
    auto_ack: bool = True
    auto_down: bool = True
    page_size: int = 500
    cloud_time_offset: timedelta = timedelta(0)
    lose_first_delivery_of: set[int] = field(default_factory=set)
    feed: list[DownItem] = field(default_factory=list)
    feed_floor: int = 0  # requests with a cursor below this get a resync snapshot
    generation: str = "gen-1"
    epoch: uuid.UUID | None = None  # adopted from the first message unless set
    deliveries: list[Envelope] = field(default_factory=list)  # every delivery, duplicates too
    applied: dict[int, Envelope] = field(default_factory=dict)
    applied_upto: int = 0
    statuses: list[Status] = field(default_factory=list)
    down_requests: list[DownRequest] = field(default_factory=list)
    bad_messages: list[str] = field(default_factory=list)
    acks_sent: list[Ack] = field(default_factory=list)
    batch_offer: int | None = None  # said in every Ack's user property when set
    up_messages: list[int] = field(default_factory=list)  # events in each `up` message

    def __post_init__(self) -> None:
        self.topics = Topics(self.site_id)
        self.lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"fake-cloud-{self.site_id}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message

    # ----- lifecycle -----

    def start(self) -> FakeCloud:
        self.client.connect(self.host, self.port, keepalive=30, clean_start=True)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("fake cloud did not subscribe")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(
            [(self.topics.up, 1), (self.topics.down_request, 1), (self.topics.status, 1)]
        )

    # ----- inbound -----

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic == self.topics.up:
                self._on_up_message(bytes(msg.payload))
            elif msg.topic == self.topics.down_request:
                self._on_down_request(DownRequest.from_wire(bytes(msg.payload)))
            elif msg.topic == self.topics.status:
                status = Status.from_wire(bytes(msg.payload))
                status.verify(self.key)
                with self.lock:
                    self.statuses.append(status)
                    self.epoch = self.epoch or status.epoch
                    auto = self.auto_ack and status.state == "online" and not msg.retain
                if auto:
                    self.send_ack(echo=status.edge_time, instance=status.instance)
        except ProtocolError as exc:
            with self.lock:
                self.bad_messages.append(f"{msg.topic}: {exc.reason}")

    def _on_up_message(self, raw: bytes) -> None:
        """One envelope, or — only when offered — a batch of them, answered by one Ack."""
        claimed, events = read_up(raw)
        if claimed is not None and self.batch_offer is None:
            raise ProtocolError("malformed", "a batch, never offered")
        with self.lock:
            self.up_messages.append(len(events))
        kept = False
        for event in events:
            if event.envelope is None:
                raise event.error or ProtocolError("malformed")
            kept = self._on_up(event.envelope) or kept
        with self.lock:
            auto = self.auto_ack
        if auto and kept:
            self.send_ack()

    def _on_up(self, envelope: Envelope) -> bool:
        """False when the delivery is lost or of another store (no answer)."""
        envelope.verify(self.key)
        with self.lock:
            self.epoch = self.epoch or envelope.epoch
            if envelope.epoch != self.epoch:
                return False  # another store: the real cloud refuses it (tests check the edge)
            self.deliveries.append(envelope)
            if envelope.seq in self.lose_first_delivery_of:
                self.lose_first_delivery_of.discard(envelope.seq)
                self.deliveries.pop()
                return False  # as if the broker had dropped it
            self.applied.setdefault(envelope.seq, envelope)
            while self.applied_upto + 1 in self.applied:
                self.applied_upto += 1
        return True

    def _on_down_request(self, request: DownRequest) -> None:
        request.verify(self.key)
        with self.lock:
            self.down_requests.append(request)
            auto = self.auto_down
        if auto:
            self.answer(request)

    # ----- outbound -----

    def first_gap(self) -> int | None:
        with self.lock:
            above = [s for s in self.applied if s > self.applied_upto]
            return self.applied_upto + 1 if above else None

    def send_ack(
        self,
        acked_seq: int | None = None,
        *,
        resend_from: int | None = None,
        key: bytes | None = None,
        site_id: str | None = None,
        rejected: list[Rejection] | None = None,
        echo: datetime | None = None,
        instance: uuid.UUID | None = None,
    ) -> Ack:
        gap = self.first_gap()
        with self.lock:
            ack = Ack(
                site_id=site_id or self.site_id,
                epoch=self.epoch,
                acked_seq=self.applied_upto if acked_seq is None else acked_seq,
                resend_from=resend_from if resend_from is not None else gap,
                cloud_time=utcnow() + self.cloud_time_offset,
                echo=echo, instance=instance,
                rejected=rejected or [],
            ).signed(key or self.key)
            self.acks_sent.append(ack)
            properties = None
            if self.batch_offer is not None:
                properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                properties.UserProperty = [(UP_BATCH_PROPERTY, str(self.batch_offer))]
        self.client.publish(self.topics.ack, ack.to_wire(), qos=1, properties=properties)
        return ack

    def answer(self, request: DownRequest) -> DownBatch:
        with self.lock:
            if request.cursor < self.feed_floor:
                latest: dict[tuple[str, str], DownItem] = {}
                for item in self.feed:
                    latest[(item.kind, item.key)] = item
                items = sorted(latest.values(), key=lambda i: i.offset)
                batch = DownBatch(
                    site_id=self.site_id, generation=self.generation, cursor=request.cursor,
                    resync=True, more=False,
                    next_cursor=max((i.offset for i in self.feed), default=0), items=items,
                )
            else:
                after = [i for i in self.feed if i.offset > request.cursor]
                page = after[: min(self.page_size, request.limit)]
                batch = DownBatch(
                    site_id=self.site_id, generation=self.generation, cursor=request.cursor,
                    next_cursor=page[-1].offset if page else request.cursor,
                    more=len(after) > len(page), items=page,
                )
        self.publish_batch(batch)
        return batch

    def publish_batch(self, batch: DownBatch, key: bytes | None = None) -> None:
        signed = batch.signed(key or self.key)
        self.client.publish(self.topics.down, signed.to_wire(), qos=1)

    # ----- views for assertions -----

    def delivered_seqs(self) -> list[int]:
        with self.lock:
            return [e.seq for e in self.deliveries]

    def applied_seqs(self) -> list[int]:
        with self.lock:
            return sorted(self.applied)
