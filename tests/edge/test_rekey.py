"""A rotated site key: the agent re-indexes its visits and asks for a fresh customer cache."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.customers import CustomerCache
from edge_agent.store.models.reception import Visit
from edge_agent.store.rekey import ensure_site_key, key_fingerprint
from shared.crypto import new_key
from tests.consent import consent_in
from tests.edge.helpers import settings_like
from tests.edge.seed import customer, project, seed


async def _snapshot(session: AsyncSession) -> tuple[list[Visit], list[CustomerCache], int,
                                                    str | None]:
    visits = list((await session.exec(select(Visit))).all())
    cache = list((await session.exec(select(CustomerCache))).all())
    state = await outbox.get_state(session)
    return visits, cache, state.down_cursor, state.key_fingerprint


def test_a_new_site_key_reindexes_visits_and_resets_the_cache(
    edge_settings: EdgeSettings,
) -> None:
    seed(edge_settings, [project(1, 1, "云栖府"),
                         customer(2, edge_settings, 1, "13900000001", visit_count=1)])
    rotated = settings_like(edge_settings, site_key=new_key())

    async def run() -> None:
        store = await Store.open(edge_settings.database_path)
        try:
            assert await store.write(ensure_site_key, edge_settings) == 0  # first start
            first = await register_visit(
                store, edge_settings, VisitIn(project_id=1, phone="13800000001", party_size=1,
                                              consent=consent_in()))
            assert await store.write(ensure_site_key, rotated) == 1
            assert await store.write(ensure_site_key, rotated) == 0  # once only
            visits, cache, cursor, fingerprint = await store.read(_snapshot)
            assert [v.phone_bidx for v in visits] == [rotated.blind_index.phone("13800000001")]
            assert cache == [] and cursor == 0
            assert fingerprint == key_fingerprint(rotated.site_key_bytes)
            # The same customer again today is still found: one visit, not two.
            again = await register_visit(
                store, rotated, VisitIn(project_id=1, phone="138 0000 0001", party_size=2,
                                        consent=consent_in()))
            assert again.outcome == "same_day_existing" and again.visit.id == first.visit.id
        finally:
            await store.close()

    asyncio.run(run())
