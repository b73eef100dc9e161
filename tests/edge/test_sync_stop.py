"""The agent's stop ends every loop it started, even when a link event wakes them in the
very turn of the event loop in which the stop cancels them."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from edge_agent.store import Store
from edge_agent.sync.agent import STOP_LOOPS_SECONDS, iso_instant
from shared.envelope import Ack
from shared.timeutil import utcnow
from tests.edge.conftest import StartAgent

pytestmark = pytest.mark.anyio

LOOPS = {"uplink", "downlink", "status", "watchdog"}


def running_loops() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() in LOOPS and not t.done()]


@pytest.mark.parametrize("wake", ["connected", "outbox_row"])
async def test_a_stop_in_the_turn_a_wake_up_lands_ends_every_loop(
    store: Store, start_agent: StartAgent, wake: str
) -> None:
    """An Ack or a connect (handed over from paho's thread) or a new outbox row wakes the
    status loop and the pump; the stop comes in the next turn, when their waits have ended
    but the loops have not resumed. No broker: nothing else moves meanwhile."""
    agent = await start_agent(mqtt_port=1, status_interval_seconds=60, ack_timeout_seconds=60)
    await asyncio.sleep(0.1)  # every loop is in its wait
    loops = running_loops()
    assert {t.get_name() for t in loops} == LOOPS
    if wake == "connected":
        agent._on_connected(False)  # as the link calls it on the event loop
    else:
        store.outbox_committed()
    await asyncio.sleep(0)
    started = time.monotonic()
    await agent.stop()
    assert time.monotonic() - started < STOP_LOOPS_SECONDS
    assert all(t.done() for t in loops), [t.get_name() for t in loops if not t.done()]
    assert running_loops() == []


async def test_a_stop_ends_the_reconnect_and_the_skew_write_the_agent_spawned(
    store: Store, start_agent: StartAgent
) -> None:
    """An ack timeout starts a reconnect and a fresh clock sample a write of the skew; both
    run beside the loops. A stop while they wait (here: the store busy with another write)
    must end them too — a reconnect that outlived it would start a new MQTT client, a skew
    write would reach a store its owner is closing."""
    agent = await start_agent(mqtt_port=1, status_interval_seconds=60, ack_timeout_seconds=60)
    await asyncio.sleep(0.1)
    release = asyncio.Event()

    async def busy(_: AsyncSession) -> None:
        await release.wait()

    blocker = asyncio.create_task(store.write(busy))
    await asyncio.sleep(0.05)  # the blocker holds the store's write lock
    sent = iso_instant(utcnow())
    agent._status_sent = sent
    answer = Ack(site_id=agent.settings.site_id, epoch=None, acked_seq=0, cloud_time=sent,
                 echo=sent, instance=agent.instance)
    assert agent._sample_clock(answer, utcnow())  # spawns the skew write
    agent.up.highest_sent = 1
    agent.up._waiting_since = time.monotonic() - 120
    agent.up._check_ack_timeout()  # spawns the reconnect
    spawned = [t for t in asyncio.all_tasks()
               if t.get_name() in ("persist-skew", "uplink-reconnect")]
    assert sorted(t.get_name() for t in spawned) == ["persist-skew", "uplink-reconnect"]

    stopping = asyncio.create_task(agent.stop())
    left_running: list[str] = []
    stopping.add_done_callback(
        lambda _: left_running.extend(t.get_name() for t in spawned if not t.done()))
    # The store is freed once the stop has cancelled the write (or has ended without it).
    for _ in range(500):
        if stopping.done() or all(t.cancelling() or t.done() for t in spawned):
            break
        await asyncio.sleep(0.01)
    release.set()
    await stopping
    await blocker
    assert left_running == []
    assert all(t.cancelled() for t in spawned), [t.get_name() for t in spawned]
    await asyncio.sleep(0.3)
    assert not agent.link.thread_alive()  # no client started after the stop
