"""The agent's stop ends every loop it started, even when a link event wakes them in the
very turn of the event loop in which the stop cancels them."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge_agent.store import Store
from edge_agent.sync.agent import STOP_LOOPS_SECONDS
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
