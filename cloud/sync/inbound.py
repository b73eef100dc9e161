"""What reaches the sync consumer: the queued message, how an `up` message is read —
one envelope or a batch of them (docs/sync-protocol.md §4.7), each event on its own —
and the batch offer the cloud makes in its Acks (ADR 0036)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud.settings import CloudSettings
from shared.envelope import UP_BATCH_PROPERTY, Envelope, ProtocolError, UpEvent, read_up


@dataclass(frozen=True)
class Inbound:
    topic: str
    payload: bytes
    retain: bool
    received_at: datetime
    qos: int = 1
    read: ReadUp | None = None  # an `up` message as read on arrival (see `on_arrival`)


def check_delivery(item: Inbound) -> None:
    """An event is sent at QoS 1 and never retained: a retained one would be replayed to
    every subscriber for ever (and an old agent's replay is no sign of a running one), a
    QoS 0 one may vanish unnoticed."""
    if item.retain:
        raise ProtocolError("retained_up", item.topic)
    if item.qos == 0:
        raise ProtocolError("qos0_up", item.topic)


def batch_offer(settings: CloudSettings) -> Properties | None:
    """How many events an agent may put in one `up` message, said with every Ack as an
    MQTT 5 user property: agents that do not know it never look, so it changes no
    message an older agent reads (ADR 0036). None: one event a message."""
    if settings.mqtt_protocol != "5" or settings.sync_up_batch < 2:
        return None
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = [(UP_BATCH_PROPERTY, str(settings.sync_up_batch))]
    return properties


# A message read: the batch's claimed site (None: a single envelope) and its events, or
# why it cannot be read at all (refused whole).
ReadUp = tuple[str | None, list[UpEvent] | ProtocolError]


def read_message(item: Inbound) -> ReadUp:
    try:
        check_delivery(item)
        return read_up(item.payload)
    except ProtocolError as exc:
        return None, exc


def on_arrival(item: Inbound) -> Inbound:
    """An `up` message read in paho's network thread as it arrives: the parse, the strict
    models and each event's digest (no key, no database) then run while the worker waits
    on PostgreSQL for the batch before. A message this cannot read as expected is left to
    the worker, which reads it again and records what goes wrong."""
    if not item.topic.endswith("/up"):
        return item
    try:
        return replace(item, read=read_message(item))
    except Exception:
        return item


def answers(read: ReadUp) -> int:
    """How many Rejections the message can put in an Ack at most."""
    events = read[1]
    return 1 if isinstance(events, ProtocolError) else max(len(events), 1)


def verified_envelope(event: UpEvent, site_id: str, key: bytes) -> Envelope:
    """The event's envelope once its site and signature are checked (on the body its
    reading already serialised, which also gave its content hash)."""
    envelope = event.envelope
    assert envelope is not None
    if envelope.site_id != site_id:
        raise ProtocolError("site_mismatch", f"topic {site_id}, message {envelope.site_id}")
    (event.digest or envelope.digest()).verify(envelope.sig, key)
    return envelope


def event_bytes(event: UpEvent) -> bytes:
    """One event of a batch as bytes, for the refusal record's hash and size."""
    data = event.data if event.envelope is None else event.envelope.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()


def readable_envelopes(raw: bytes) -> list[Envelope]:
    """The envelopes that can be read from a message refused whole, to name them."""
    try:
        return [e.envelope for e in read_up(raw)[1] if e.envelope is not None]
    except ProtocolError:
        return []
