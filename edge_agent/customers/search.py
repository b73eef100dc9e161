"""Finding one's customers on the phone (客户360): filters by sales stage, gender, source,
first or return visits, ownership and payment method; a search by number (the store's
blind index), by the last four digits, or by name. A search shows who a number or a name
is, so each one is counted against the consultant like a kiosk look-up and audited in the
cloud through a `customer.searched` event, written before the answer is returned.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.customers.service import MyCustomer, my_customers, parse_key
from edge_agent.kiosk.lookup_guard import LookupLimiter
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.deps import StaffUser
from edge_agent.store import Store, outbox
from shared.errors import ValidationFailed
from shared.events import CUSTOMER_SEARCHED, CustomerSearched
from shared.phone import InvalidPhone, normalise_phone
from shared.timeutil import utcnow

SEARCH_MAX = 40
_TAIL = re.compile(r"^[0-9]{4}$")
_PHONEISH = re.compile(r"^[0-9+()\s.-]+$")

VisitsFilter = Literal["first", "returned"]


class SearchInvalid(ValidationFailed):
    code = "customer_search_invalid"
    title = "请输入完整的 11 位手机号、号码后 4 位或客户姓名"


@dataclass(frozen=True)
class CustomerFilter:
    """Every set criterion must hold; an unset one passes everything."""

    status: frozenset[str] = frozenset()
    gender: str | None = None
    source: str | None = None
    visits: VisitsFilter | None = None
    ownership: str | None = None
    payment_method: str | None = None

    def matches(self, c: MyCustomer) -> bool:
        return ((not self.status or c.status in self.status)
                and (self.gender is None or c.profile.get("gender") == self.gender)
                and (self.source is None or c.source == self.source)
                and (self.visits is None
                     or (c.visit_count > 1) == (self.visits == "returned"))
                and (self.ownership is None or c.ownership == self.ownership)
                and (self.payment_method is None or c.payment_method == self.payment_method))


@dataclass(frozen=True)
class Query:
    by: Literal["phone", "tail", "name"]
    text: str  # the normalised number, the four digits, or the name part


def parse_query(raw: str) -> Query:
    text = raw.strip()
    if not text or len(text) > SEARCH_MAX:
        raise SearchInvalid()
    if _TAIL.fullmatch(text):
        return Query("tail", text)
    if _PHONEISH.fullmatch(text):
        try:
            return Query("phone", normalise_phone(text))
        except InvalidPhone:
            raise SearchInvalid() from None
    return Query("name", text)


def _found(settings: EdgeSettings, query: Query, customers: list[MyCustomer]
           ) -> list[MyCustomer]:
    if query.by == "phone":
        bidx = settings.blind_index.phone(query.text)
        return [c for c in customers if parse_key(c.key)[1] == bidx]
    if query.by == "tail":
        return [c for c in customers if c.phone_masked.endswith(query.text)]
    # Names are only readable here (decrypted from this office's visits), never matched
    # against the masked form: 张* would match every 张.
    return [c for c in customers if c.name is not None and query.text in c.name]


async def _audit_tx(
    session: AsyncSession, settings: EdgeSettings, event: CustomerSearched, now: datetime
) -> None:
    await outbox.append(
        session, settings.cipher, event_type=CUSTOMER_SEARCHED, event_id=uuid.uuid4(),
        occurred_at=now, payload=event.model_dump(mode="json"), now=now)


async def find(
    store: Store, settings: EdgeSettings, staff: StaffUser, limiter: LookupLimiter, *,
    criteria: CustomerFilter, q: str | None, now: datetime | None = None,
) -> list[MyCustomer]:
    """The consultant's customers that pass the filter and, given `q`, match the search
    (counted and audited); the most urgent follow-up first."""
    query = parse_query(q) if q is not None else None
    if query is not None:
        limiter.check(f"user:{staff.id}")
    found = [c for c in await my_customers(store, settings, staff, now=now)
             if criteria.matches(c)]
    if query is None:
        return found
    found = _found(settings, query, found)
    event = CustomerSearched(consultant_id=staff.id, by=query.by,
                             phone=query.text if query.by == "phone" else None,
                             matches=len(found))
    await store.write(_audit_tx, settings, event, now or utcnow())
    store.outbox_committed()
    return found
