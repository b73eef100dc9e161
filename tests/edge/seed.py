"""Seed an edge database through the real down-feed code (as the cloud would)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.sync.downlink import apply_batch
from shared.envelope import DownBatch, DownItem
from shared.phone import mask_phone
from shared.timeutil import iso, utcnow
from tests.consent import consent_in


def project(offset: int, pid: int, name: str, city: str = "杭州") -> DownItem:
    return DownItem(offset=offset, kind="project", key=str(pid),
                    data={"id": pid, "name": name, "city": city})


def consultant(offset: int, cid: int, name: str, active: bool = True,
               roles: list[str] | None = None) -> DownItem:
    return DownItem(offset=offset, kind="consultant", key=str(cid),
                    data={"id": cid, "name": name, "active": active,
                          "roles": roles or ["consultant"]})


def customer(
    offset: int, settings: EdgeSettings, project_id: int, phone: str, **data: Any
) -> DownItem:
    bidx = settings.blind_index.phone(phone)
    body: dict[str, Any] = {
        "project_id": project_id, "phone_bidx": bidx, "phone_masked": mask_phone(phone),
        "owner_id": None, "owner_name": None, "visit_count": 1, "first_visit_at": None,
        "last_visit_at": None, "protection_until": None, "customer_ref": None,
    }
    body.update({k: iso(v) if isinstance(v, datetime) else v for k, v in data.items()})
    return DownItem(offset=offset, kind="customer", key=f"{project_id}:{bidx}", data=body)


def batch(settings: EdgeSettings, items: list[DownItem], *, cursor: int = 0,
          resync: bool = False) -> DownBatch:
    return DownBatch(site_id=settings.site_id, generation="gen-1", cursor=cursor, resync=resync,
                     next_cursor=max((i.offset for i in items), default=cursor), items=items)


def seed(settings: EdgeSettings, items: list[DownItem],
         visits: list[tuple[str, datetime]] | None = None,
         synced_at: datetime | None = None) -> None:
    """Apply `items` as one down-feed batch (received at `synced_at`, default now) and
    register `visits` (phone, when)."""

    async def run() -> None:
        store = await Store.open(settings.database_path)
        try:
            await store.write(apply_batch, batch(settings, items), synced_at or utcnow())
            for phone, when in visits or []:
                await register_visit(store, settings, VisitIn(phone=phone, party_size=1,
                                                              consent=consent_in()), now=when)
        finally:
            await store.close()

    asyncio.run(run())
