"""asyncio helpers that keep a cancellation intact on every Python we run (3.11+)."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set (True) or `seconds` pass (False).

    Not `asyncio.wait_for(event.wait(), timeout)`: on Python 3.11 it runs the wait as a
    task of its own, and when its caller is cancelled after that task has finished but
    before the caller resumed (the event set in the same turn of the loop as the cancel),
    it returns the result and drops the cancellation (bpo-42130, fixed in 3.12). A loop
    that waits like that can outlive a stop that cancelled it; `asyncio.timeout` counts
    cancellations and lets the caller's one through.
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
