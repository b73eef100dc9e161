"""Child process of the crash tests: `python -m tests.edge.crash_child register <phone>`.

Settings come from ANCHANG_EDGE_*; ANCHANG_CRASH_AT picks where the process kills itself.
`register` registers the visits given; `sync` starts the sync agent, registers the visits
given (if any) and runs until the outbox is empty; `down` starts the sync agent and runs
until one down-feed batch has been applied.
"""

from __future__ import annotations

import asyncio
import faulthandler
import sys

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.sync.agent import SyncAgent
from tests.consent import consent_in
from tests.edge.helpers import eventually

DRAIN_TIMEOUT_SECONDS = 20
# Under the parent's 60 s timeout: a child that hangs prints every thread's stack and exits,
# so the failure says where it hung.
HANG_DUMP_SECONDS = 45


async def main(command: str, phones: list[str]) -> int:
    settings = EdgeSettings()
    store = await Store.open(settings.database_path)
    agent = SyncAgent(settings, store) if command == "sync" else None
    down = SyncAgent(settings, store) if command == "down" else None
    for running in (agent, down):
        if running is not None:
            await running.start()
    for phone in phones:
        await register_visit(store, settings, VisitIn(phone=phone, party_size=1,
                                                      consent=consent_in()))
    if agent is not None:

        async def drained() -> bool:
            return (await store.read(outbox.backlog)).count == 0

        await eventually(drained, within=DRAIN_TIMEOUT_SECONDS, what="outbox drained")
        await agent.stop()
    if down is not None:
        applied = "anchang_edge_down_batches_applied_total"
        await eventually(lambda: down.metrics.value(applied), within=DRAIN_TIMEOUT_SECONDS,
                         what="a down-feed batch applied")
        await down.stop()
    await store.close()
    return 0


if __name__ == "__main__":
    faulthandler.dump_traceback_later(HANG_DUMP_SECONDS, exit=True)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2:])))
