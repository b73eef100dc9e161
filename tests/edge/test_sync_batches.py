"""Batched `up` messages (docs/sync-protocol.md §4.7, ADR 0036) from the edge's side: the
agent packs several events into one message only after the cloud's Ack said it takes
them, and sends one event a message to a cloud that never said so."""

from __future__ import annotations

import pytest

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.envelope import Rejection
from tests.edge.conftest import StartAgent
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import eventually, outbox_seqs, register_many

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_cloud_that_offers_no_batches_gets_one_event_a_message(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent,
    protocol: str,
) -> None:
    """An older cloud (no offer) — or an offer the MQTT 3.1.1 link cannot carry."""
    if protocol == "3.1.1":
        cloud.batch_offer = 10  # said in a user property, which MQTT 3.1.1 does not have
    await register_many(store, edge_settings, 12)
    await start_agent(mqtt_protocol=protocol)
    await eventually(lambda: cloud.applied_seqs() == list(range(1, 13)), what="12 applied")
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")
    assert cloud.bad_messages == []
    assert set(cloud.up_messages) == {1}


async def test_offered_batches_carry_the_backlog_in_order_within_the_offer(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent,
) -> None:
    cloud.batch_offer = 10
    await register_many(store, edge_settings, 35)  # queued while the agent was not running
    agent = await start_agent()
    await eventually(lambda: cloud.applied_seqs() == list(range(1, 36)), what="35 applied")
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")
    assert agent.up.batch_max == 10
    assert cloud.bad_messages == []
    assert max(cloud.up_messages) == 10 and sum(cloud.up_messages) == 35
    assert len(cloud.up_messages) <= 8  # 4 batches, and a few after a window step at most
    with cloud.lock:
        delivered = [e.seq for e in cloud.deliveries]
    assert delivered == sorted(delivered)


async def test_a_batch_refused_whole_is_sent_again_one_event_a_message(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent,
) -> None:
    """A cloud that offered batches but refuses one whole (seq null: it could not read
    it, so nothing was consumed): the agent sends singly from its last ack for the rest of
    the connection — no event waits behind a message form the cloud cannot take."""
    cloud.batch_offer = 5
    cloud.auto_ack = False
    await register_many(store, edge_settings, 5)
    agent = await start_agent(ack_timeout_seconds=60)
    await eventually(lambda: agent.link.connected, what="connected")
    cloud.send_ack()  # the offer, before the events leave (they wait for a clock sample)
    await eventually(lambda: cloud.up_messages[:1] == [5], what="one batch of 5")
    cloud.send_ack(0, rejected=[Rejection(reason="malformed", consumed=False)])
    await eventually(lambda: cloud.up_messages[1:] == [1] * 5, what="five singles")
    assert agent.up.batch_max == 1
    cloud.send_ack()
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")
    assert cloud.applied_seqs() == [1, 2, 3, 4, 5]
