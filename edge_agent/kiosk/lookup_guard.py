"""The kiosk's customer look-up, limited and audited.

A look-up tells whose customer a phone number is: walking numbers through it would map
the office's customers. Each tablet (by its address on the office LAN: every tablet
shares the one kiosk token) gets `kiosk_lookup_per_minute`; more are answered 429 with
Retry-After. Every answered look-up writes a `customer.looked_up` event to the outbox,
which the cloud records in its audit log, as it does `contact.revealed`.

The counters live in the agent's memory: one agent process serves an appliance, and a
restart forgetting a minute of counts is harmless.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk import lookup as customer_lookup
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from shared.errors import TooManyRequests
from shared.events import CUSTOMER_LOOKED_UP, CustomerLookedUp
from shared.phone import normalise_phone
from shared.timeutil import utcnow

WINDOW_SECONDS = 60.0
# Tablets remembered at most; an office has a handful, so this only bounds memory.
MAX_TABLETS = 1024


class TooManyLookups(TooManyRequests):
    code = "too_many_lookups"
    title = "查询过于频繁，请稍后再试"


class LookupLimiter:
    """A sliding one-minute window per tablet."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def check(self, tablet: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        seen = self._seen.get(tablet)
        if seen is None:
            if len(self._seen) >= MAX_TABLETS:
                self._forget_idle(now)
            seen = self._seen[tablet] = deque()
        while seen and seen[0] <= now - WINDOW_SECONDS:
            seen.popleft()
        if len(seen) >= self.per_minute:
            wait = math.ceil(seen[0] + WINDOW_SECONDS - now)
            raise TooManyLookups(retry_after=max(wait, 1))
        seen.append(now)

    def _forget_idle(self, now: float) -> None:
        for tablet in [t for t, s in self._seen.items() if not s or s[-1] <= now - WINDOW_SECONDS]:
            del self._seen[tablet]


async def _record_tx(
    session: AsyncSession, settings: EdgeSettings, event: CustomerLookedUp, now: datetime
) -> None:
    await outbox.append(
        session, settings.cipher, event_type=CUSTOMER_LOOKED_UP, event_id=uuid.uuid4(),
        occurred_at=now, payload=event.model_dump(mode="json"), now=now)


async def lookup(
    store: Store, settings: EdgeSettings, limiter: LookupLimiter, *, tablet: str,
    phone_raw: str, project_id: int | None,
) -> tuple[customer_lookup.CustomerView, str]:
    """The customer look-up, counted against the tablet and audited."""
    limiter.check(tablet)
    phone = normalise_phone(phone_raw)
    view, masked = await customer_lookup.lookup_customer(store, settings, phone,
                                                         project_id=project_id)
    event = CustomerLookedUp(project_id=view.project_id, phone=phone, known=view.known,
                             tablet=tablet[:64])
    await store.write(_record_tx, settings, event, utcnow())
    store.outbox_committed()
    return view, masked
