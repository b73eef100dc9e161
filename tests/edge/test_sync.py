"""Up-stream sync against the real Mosquitto and a fake cloud that speaks the protocol."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta
from typing import Any

import pytest

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.sync.agent import SyncAgent
from shared.crypto import decode_key, new_key
from shared.envelope import Rejection, Status
from tests.edge.conftest import StartAgent
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import backlog, eventually, outbox_seqs, register_many

pytestmark = pytest.mark.anyio

@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_events_reach_the_cloud_in_order_and_its_ack_releases_them(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent,
    protocol: str,
) -> None:
    cloud.cloud_time_offset = timedelta(seconds=-120)  # the cloud's clock is 2 min behind
    await register_many(store, edge_settings, 5)  # queued while the agent was not running
    agent = await start_agent(mqtt_protocol=protocol)
    await eventually(lambda: cloud.applied_seqs() == [1, 2, 3, 4, 5], what="5 applied")
    await eventually(lambda: agent.up.last_acked == 5, what="ack processed")
    state = await backlog(store)
    assert state.count == 0 and state.last_acked_seq == 5 and state.last_ack_at is not None

    async def persisted_skew() -> float | None:
        return (await backlog(store)).clock_skew_seconds

    # Measured from the round trip of the status the cloud answered, and kept.
    await eventually(lambda: agent.clock_skew is not None, what="a clock sample")
    skew = await persisted_skew()
    for _ in range(50):
        if skew is not None:
            break
        await asyncio.sleep(0.1)
        skew = await persisted_skew()
    assert skew is not None and 115 < skew < 125
    assert cloud.bad_messages == []
    first = cloud.applied[1]
    assert first.type == "visit.registered" and first.payload["phone"] == "13600000000"
    assert first.sent_at >= first.occurred_at
    await register_many(store, edge_settings, 1, start=5)  # and while online
    await eventually(lambda: cloud.applied_seqs() == [1, 2, 3, 4, 5, 6], what="seq 6 applied")
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="seq 6 released")

    def latest_status() -> Status | None:
        with cloud.lock:
            done = [s for s in cloud.statuses if s.state == "online" and s.last_acked_seq == 6]
        return done[-1] if done else None

    status = await eventually(latest_status, what="an online status after the acks")
    assert status.backlog == 0 and status.agent_version
    assert status.clock_skew_seconds is not None and status.clock_skew_seconds > 100
    assert agent.metrics.value("anchang_edge_outbox_released_total") == 6


async def test_puback_releases_nothing_only_the_cloud_ack_does(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 3)
    agent = await start_agent()
    await eventually(lambda: cloud.delivered_seqs() == [1, 2, 3], what="delivery")
    client = agent.link._client
    await eventually(lambda: client is not None and not client._out_messages, what="PUBACKs")
    assert outbox_seqs(edge_settings) == [1, 2, 3]  # the broker's PUBACKs released nothing
    assert (await backlog(store)).last_acked_seq == 0
    cloud.send_ack(2)
    await eventually(lambda: outbox_seqs(edge_settings) == [3], what="release up to the ack")
    assert (await backlog(store)).last_acked_seq == 2
    assert agent.up.last_acked == 2


async def test_forged_foreign_and_impossible_acks_are_ignored(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 2)
    agent = await start_agent()
    await eventually(lambda: cloud.delivered_seqs() == [1, 2], what="delivery")
    value = agent.metrics.value
    cloud.send_ack(2, key=decode_key(new_key()))  # signed with another key
    await eventually(
        lambda: value("anchang_edge_rejected_messages_total", reason="bad_signature") == 1,
        what="forged ack rejected",
    )
    cloud.send_ack(2, site_id="another-site")  # validly signed, but for another site
    await eventually(
        lambda: value("anchang_edge_rejected_messages_total", reason="wrong_site") == 1,
        what="foreign ack rejected",
    )
    cloud.client.publish(cloud.topics.ack, b"{not json", qos=1)
    await eventually(
        lambda: value("anchang_edge_rejected_messages_total", reason="malformed") == 1,
        what="garbage rejected",
    )
    assert outbox_seqs(edge_settings) == [1, 2] and agent.up.last_acked == 0
    cloud.send_ack(2)
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="genuine ack releases")


async def test_an_ack_beyond_the_head_means_this_store_was_restored(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    """The cloud acks seqs of our epoch that this store never wrote: it is an older copy
    (restored from a backup). Reusing those seqs would have its new events dropped as
    duplicates, so it takes a new epoch and sends nothing until the cloud adopts it."""
    cloud.auto_ack = False
    await register_many(store, edge_settings, 2)
    agent = await start_agent()
    await eventually(lambda: cloud.delivered_seqs() == [1, 2], what="delivery")
    old_epoch = agent.up.epoch
    cloud.send_ack(9)  # beyond anything this edge ever wrote
    await eventually(lambda: agent.up.refused == "epoch_refused", what="a new epoch")
    assert agent.up.epoch != old_epoch
    assert (await store.read(outbox.get_state)).epoch == agent.up.epoch  # kept on disk
    assert value_of(agent, "ack_beyond_head") == 1
    cloud.send_ack(2)  # an ack of the old epoch releases nothing of the new one
    await asyncio.sleep(0.5)
    assert outbox_seqs(edge_settings) == [1, 2] and agent.up.last_acked == 0
    # An operator re-enrols the site: the cloud now speaks the new epoch.
    with cloud.lock:
        cloud.epoch = agent.up.epoch
    cloud.send_ack(2)
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released once adopted")
    assert agent.up.refused is None


def value_of(agent: SyncAgent, reason: str) -> float:
    return agent.metrics.value("anchang_edge_rejected_messages_total", reason=reason)


async def test_unacked_events_are_resent_in_order_after_a_restart(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 3)
    first = await start_agent()
    await eventually(lambda: cloud.delivered_seqs() == [1, 2, 3], what="first delivery")
    cloud.send_ack(1)
    await eventually(lambda: first.up.last_acked == 1, what="ack 1")
    await first.stop()
    await start_agent()  # a new process on the same database
    await eventually(lambda: cloud.delivered_seqs() == [1, 2, 3, 2, 3], what="resend of 2, 3")
    cloud.send_ack(3)
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_watchdog_restarts_a_dead_network_thread_and_resends(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 2)
    agent = await start_agent()
    await eventually(lambda: cloud.delivered_seqs() == [1, 2], what="delivery")
    client = agent.link._client
    assert client is not None

    def explode(*_: Any) -> None:
        raise RuntimeError("bug in a callback")

    client.on_message = explode  # an exception escaping a callback kills paho's thread
    cloud.send_ack(0)
    await eventually(lambda: not agent.link.thread_alive(), what="thread death")
    await eventually(
        lambda: agent.metrics.value("anchang_edge_mqtt_client_restarts_total") == 1,
        within=10, what="watchdog restart",
    )
    await eventually(lambda: cloud.delivered_seqs() == [1, 2, 1, 2], what="resend after restart")
    cloud.send_ack(2)
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")


async def test_resend_from_rewinds_the_send_pointer(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.lose_first_delivery_of = {2}  # as a broker dropping a queued message would
    await register_many(store, edge_settings, 5)
    agent = await start_agent(ack_timeout_seconds=60)  # only resend_from can heal it
    await eventually(lambda: cloud.applied_seqs() == [1, 2, 3, 4, 5], what="gap healed")
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")
    assert any(a.resend_from == 2 for a in cloud.acks_sent)
    assert agent.metrics.value("anchang_edge_resends_total", reason="resend_from") >= 1
    # The same resend_from, repeated by every ack above the gap, was honoured once.
    assert cloud.delivered_seqs().count(3) <= 2


async def test_no_ack_progress_resends_at_a_bounded_rate(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 2)
    timeout = 0.5
    agent = await start_agent(ack_timeout_seconds=timeout)
    await eventually(lambda: cloud.delivered_seqs() == [1, 2], what="first delivery")
    started = time.monotonic()
    await eventually(lambda: len(cloud.delivered_seqs()) >= 6, what="two timeout resends")
    elapsed = time.monotonic() - started
    assert elapsed >= 2 * timeout * 0.9  # not a storm: one rewind per ack_timeout
    assert cloud.delivered_seqs()[:6] == [1, 2, 1, 2, 1, 2]
    assert agent.metrics.value("anchang_edge_resends_total", reason="ack_timeout") >= 4
    cloud.send_ack(2)
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="released")
    settled = cloud.delivered_seqs()
    with cloud.lock:
        statuses = len(cloud.statuses)
    # Two more status ticks (1 s apart) = well over 2 × ack_timeout: no resend once acked.
    await eventually(lambda: len(cloud.statuses) >= statuses + 2, what="two status ticks")
    assert cloud.delivered_seqs() == settled
    assert agent.up.highest_sent == agent.up.last_acked == 2


async def test_the_window_bounds_unacked_events_in_flight(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 8)
    agent = await start_agent(sync_window=3, ack_timeout_seconds=60)
    await eventually(lambda: cloud.delivered_seqs() == [1, 2, 3], what="a window of 3")
    assert agent.up.next_to_send == 4
    cloud.send_ack(2)
    await eventually(lambda: cloud.delivered_seqs() == [1, 2, 3, 4, 5], what="window slides")
    cloud.auto_ack = True
    cloud.send_ack()
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="all released")
    assert cloud.applied_seqs() == list(range(1, 9))


async def test_a_refusal_that_consumed_no_seq_sets_nothing_aside(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    cloud.auto_ack = False
    await register_many(store, edge_settings, 2)
    agent = await start_agent()
    await eventually(lambda: cloud.delivered_seqs() == [1, 2], what="delivery")
    # A garbled copy of seq 1 was refused; the genuine event must stay queued.
    cloud.send_ack(0, rejected=[Rejection(seq=1, reason="bad_signature", consumed=False)])
    await eventually(lambda: agent.metrics.value("anchang_edge_cloud_rejected_events_total") == 1,
                     what="the refusal seen")
    cloud.send_ack(2, rejected=[Rejection(seq=2, reason="invalid_payload", consumed=True)])
    await eventually(lambda: outbox_seqs(edge_settings) == [], what="release")
    with sqlite3.connect(edge_settings.database_path) as db:
        aside = [r[0] for r in db.execute("SELECT seq FROM rejected_event ORDER BY seq")]
    assert aside == [2]
