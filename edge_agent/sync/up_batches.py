"""`up` messages of several events (ADR 0036): the cloud's offer, and signed envelopes
packed into messages within it and the message size limit (§4.7)."""

from __future__ import annotations

from edge_agent.sync.mqtt import Outgoing
from shared.envelope import MAX_MESSAGE_BYTES, MAX_UP_BATCH_EVENTS, up_batch_wire


def batch_offer(value: str | None) -> int | None:
    """The events per `up` message a cloud takes, from its Acks' user property; None when
    it says nothing (an older cloud: one event a message) or nothing readable."""
    if value is None or not value.isdigit():
        return None
    return min(int(value), MAX_UP_BATCH_EVENTS)


def pack(wires: list[bytes], *, topic: str, site_id: str, batch_max: int
         ) -> tuple[list[Outgoing], list[int]]:
    """Signed envelopes → `up` messages: one each, or batches of at most `batch_max` and
    the message size limit; with the events in each."""
    if batch_max < 2:
        return [(topic, wire, False) for wire in wires], [1] * len(wires)
    overhead = len(up_batch_wire(site_id, []))
    messages: list[Outgoing] = []
    counts: list[int] = []
    group: list[bytes] = []
    size = overhead
    for wire in wires:
        if group and (len(group) >= batch_max
                      or size + 1 + len(wire) > MAX_MESSAGE_BYTES):
            messages.append((topic, up_batch_wire(site_id, group), False))
            counts.append(len(group))
            group, size = [], overhead
        group.append(wire)
        size += len(wire) + (1 if len(group) > 1 else 0)
    messages.append((topic, up_batch_wire(site_id, group), False))
    counts.append(len(group))
    return messages, counts
