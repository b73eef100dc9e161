"""shared.aio.wait_event: a wait with a limit that never drops its caller's cancellation."""

from __future__ import annotations

import asyncio

from shared.aio import wait_event


def test_it_says_whether_the_event_came_or_the_time_ran_out() -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        event = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, event.set)
        came = await wait_event(event, 5)
        already = await wait_event(event, 5)
        event.clear()
        return came, already, await wait_event(event, 0.01)

    assert asyncio.run(scenario()) == (True, True, False)


def test_a_cancel_in_the_turn_the_event_is_set_ends_the_waiting_loop() -> None:
    """The race that kept the edge agent's loops alive after a stop: the event is set
    (an Ack arrives), the wait finishes within the next turn, and in that same turn the
    loop is cancelled before it resumed. The loop must end, not go round again."""

    async def scenario() -> tuple[bool, int]:
        event = asyncio.Event()
        rounds = 0

        async def loop() -> None:
            nonlocal rounds
            while True:
                await wait_event(event, 60)
                event.clear()
                rounds += 1

        task = asyncio.create_task(loop())
        await asyncio.sleep(0)  # the loop waits
        event.set()
        await asyncio.sleep(0)  # the wait ends in this turn; the loop has not resumed
        task.cancel()
        await asyncio.wait({task}, timeout=1)
        ended = task.done()
        task.cancel()  # a loop that swallowed the first cancel is stopped for good here
        await asyncio.wait({task}, timeout=1)
        return ended and task.cancelled(), rounds

    ended, rounds = asyncio.run(scenario())
    assert ended, "the cancelled loop went on waiting"
    assert rounds <= 1
