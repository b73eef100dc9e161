"""What the edge knows about a customer (project + phone) before and while registering:
the cloud's cached view plus this office's own visits the cache does not reflect yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.customers import CustomerCache
from edge_agent.store.models.reception import Visit
from shared.errors import ValidationFailed
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import shanghai_date, utcnow

# The cloud's view counts as current when the down-feed answered within this many polls.
FRESH_DOWN_POLLS = 3
MIN_FRESH_SECONDS = 60.0


class ProjectRequired(ValidationFailed):
    code = "project_required"
    title = "请选择项目（本案场未配置默认项目）"


@dataclass(frozen=True)
class CustomerView:
    """What the edge knows about one customer (project + phone) right now."""

    project_id: int
    phone_bidx: str
    known: bool
    prior_visits: int
    owner_id: int | None
    owner_name: str | None
    last_visit_at: datetime | None
    protection_until: datetime | None
    today: Visit | None
    provisional: bool
    # The rows it was read from, for a caller that judges the same customer in the same
    # transaction (guided.provisional) instead of reading them again.
    cache: CustomerCache | None = field(default=None, compare=False, repr=False)
    local: tuple[Visit, ...] = field(default=(), compare=False, repr=False)

    @property
    def classification(self) -> Literal["first_visit", "return_visit"]:
        return "return_visit" if self.prior_visits > 0 else "first_visit"


def resolve_project(settings: EdgeSettings, project_id: int | None) -> int:
    chosen = project_id or settings.default_project_id
    if chosen is None:
        raise ProjectRequired()
    return chosen


async def _down_feed_fresh(session: AsyncSession, settings: EdgeSettings, now: datetime) -> bool:
    state = await outbox.get_state(session)
    if state.down_synced_at is None:
        return False
    limit = max(FRESH_DOWN_POLLS * settings.down_poll_seconds, MIN_FRESH_SECONDS)
    return now - state.down_synced_at <= timedelta(seconds=limit)


async def customer_view(
    session: AsyncSession, settings: EdgeSettings, project_id: int, phone_bidx: str, now: datetime
) -> CustomerView:
    """Cloud cache + this office's own visits that the cache does not reflect yet."""
    cache = (
        await session.exec(
            select(CustomerCache).where(
                CustomerCache.project_id == project_id, CustomerCache.phone_bidx == phone_bidx
            )
        )
    ).first()
    local = list(
        (
            await session.exec(
                select(Visit)
                .where(Visit.project_id == project_id, Visit.phone_bidx == phone_bidx)
                .order_by(col(Visit.occurred_at))
            )
        ).all()
    )
    seen_by_cloud = cache.last_visit_at if cache is not None else None
    unseen = [v for v in local if seen_by_cloud is None or v.occurred_at > seen_by_cloud]
    owner_id = cache.owner_id if cache is not None else None
    owner_name = cache.owner_name if cache is not None else None
    if owner_id is None and local:
        owner_id, owner_name = local[0].owner_id, local[0].owner_name
    last_visit = max(
        [t for t in (seen_by_cloud, local[-1].occurred_at if local else None) if t is not None],
        default=None,
    )
    today = shanghai_date(now).isoformat()
    return CustomerView(
        project_id=project_id,
        phone_bidx=phone_bidx,
        known=cache is not None or bool(local),
        prior_visits=(cache.visit_count if cache is not None else 0) + len(unseen),
        owner_id=owner_id,
        owner_name=owner_name,
        last_visit_at=last_visit,
        protection_until=cache.protection_until if cache is not None else None,
        today=next((v for v in local if v.visit_date == today), None),
        provisional=not await _down_feed_fresh(session, settings, now),
        cache=cache,
        local=tuple(local),
    )


async def lookup_customer(
    store: Store,
    settings: EdgeSettings,
    phone_raw: str,
    *,
    project_id: int | None = None,
    now: datetime | None = None,
) -> tuple[CustomerView, str]:
    """The customer's view and masked phone, for the reception screen before registering."""
    phone = normalise_phone(phone_raw)
    chosen = resolve_project(settings, project_id)
    view = await store.read(
        customer_view, settings, chosen, settings.blind_index.phone(phone), now or utcnow()
    )
    return view, mask_phone(phone)
