"""A consultant's own customers on the appliance: who they own, where each stands on the
7-day follow-up rule, each one's history here, and an audited reveal of the number to
call them.

Ownership follows the kiosk's view (kiosk.lookup.customer_view): the cloud's customer
cache decides; for a customer the cloud has not answered for yet, this office's first
visit does (provisionally). The appliance keeps no audit log of its own: a reveal
commits a `contact.revealed` event to the outbox before the number is answered, and the
cloud records it as `customer.unmask` — a reveal made while the WAN is down is audited
once it comes back, and never lost.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.customers import profile as customer_profile
from edge_agent.customers.errors import CustomerNotFound, PhoneNotHere
from edge_agent.kiosk import service as kiosk_service
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.deps import StaffUser
from edge_agent.store import Store, outbox
from edge_agent.store.models.customers import CustomerCache, FollowUp, is_erased
from edge_agent.store.models.reception import Visit
from shared.events import CONTACT_REVEALED, ContactRevealed
from shared.follow_ups import MANAGER_ROLES, FollowDue, follow_due, follow_up_effective
from shared.names import mask_name
from shared.rules import NotYourCustomer
from shared.timeutil import as_utc, utcnow

CUSTOMER_KEY = re.compile(r"^([0-9]{1,9}):([0-9a-f]{64})$")


def customer_key(project_id: int, phone_bidx: str) -> str:
    return f"{project_id}:{phone_bidx}"


def parse_key(key: str) -> tuple[int, str]:
    match = CUSTOMER_KEY.fullmatch(key)
    if match is None:
        raise CustomerNotFound()
    return int(match.group(1)), match.group(2)


def is_manager(staff: StaffUser) -> bool:
    return bool(MANAGER_ROLES & set(staff.roles))


@dataclass(frozen=True)
class MyCustomer:
    key: str
    project_id: int
    phone_masked: str
    name: str | None  # from this office's latest visit that has one
    name_masked: str | None  # that, masked; else the cloud's masked name
    owner_id: int | None
    visit_count: int
    last_visit_at: datetime | None
    last_effective_at: datetime | None
    due: FollowDue | None
    protection_until: datetime | None
    customer_ref: str | None
    provisional: bool  # the cloud has not answered for this customer yet
    first_visit_at: datetime | None
    status: str  # cloud.sales.stages
    ownership: str  # owned | overdue | public | invalid
    payment_method: str | None
    source: str | None
    profile: dict[str, Any]  # shared.reception_events.VisitProfile fields, latest each
    phone_region: str | None


@dataclass(frozen=True)
class HistoryEntry:
    kind: Literal["visit", "follow_up"]
    at: datetime
    consultant_id: int | None
    visit: Visit | None = None
    follow_up: FollowUp | None = None


def _latest(*times: datetime | None) -> datetime | None:
    present = [as_utc(t) for t in times if t is not None]
    return max(present, default=None)


def _earliest(*times: datetime | None) -> datetime | None:
    present = [as_utc(t) for t in times if t is not None]
    return min(present, default=None)


def _assemble(
    settings: EdgeSettings, key: tuple[int, str], cache: CustomerCache | None,
    visits: list[Visit], follow_ups: list[FollowUp], now: datetime,
) -> MyCustomer:
    visits = sorted(visits, key=lambda v: v.occurred_at)
    seen = cache.last_visit_at if cache is not None else None
    unseen = [v for v in visits if seen is None or v.occurred_at > seen]
    owner = cache.owner_id if cache is not None else None
    if owner is None and visits:
        owner = visits[0].owner_id
    named = next((v for v in reversed(visits) if v.name_enc), None)
    effective = [f.occurred_at for f in follow_ups if follow_up_effective(f.kind, f.reached)]
    last_effective = _latest(
        cache.last_effective_at if cache is not None else None, seen,
        visits[-1].occurred_at if visits else None, *effective)
    masked = (cache.phone_masked if cache is not None else None) or visits[-1].phone_masked
    name = (settings.cipher.decrypt(named.name_enc, context=kiosk_service.NAME_CONTEXT)
            if named is not None and named.name_enc else None)
    return MyCustomer(
        key=customer_key(*key), project_id=key[0], phone_masked=masked, name=name,
        name_masked=mask_name(name) or (cache.name_masked if cache is not None else None),
        owner_id=owner,
        visit_count=(cache.visit_count if cache is not None else 0) + len(unseen),
        last_visit_at=_latest(seen, visits[-1].occurred_at if visits else None),
        last_effective_at=last_effective,
        due=follow_due(last_effective, now) if last_effective is not None else None,
        protection_until=cache.protection_until if cache is not None else None,
        customer_ref=cache.customer_ref if cache is not None else None,
        provisional=cache is None,
        first_visit_at=_earliest(cache.first_visit_at if cache is not None else None,
                                 visits[0].occurred_at if visits else None),
        status=customer_profile.stage(cache), ownership=customer_profile.ownership(cache),
        payment_method=cache.payment_method if cache is not None else None,
        source=customer_profile.first_source(visits),
        profile=customer_profile.merged_profile(visits),
        phone_region=next((v.phone_region for v in reversed(visits) if v.phone_region), None),
    )


async def _gather(
    session: AsyncSession, bidxs: set[str]
) -> tuple[dict[tuple[int, str], CustomerCache], dict[tuple[int, str], list[Visit]],
           dict[tuple[int, str], list[FollowUp]]]:
    """Cache rows, local visits and local follow-ups of these customers: three queries."""
    caches = {(c.project_id, c.phone_bidx): c for c in (await session.exec(
        select(CustomerCache).where(col(CustomerCache.phone_bidx).in_(bidxs)))).all()}
    visits: dict[tuple[int, str], list[Visit]] = defaultdict(list)
    for v in (await session.exec(select(Visit).where(col(Visit.phone_bidx).in_(bidxs)))).all():
        visits[(v.project_id, v.phone_bidx)].append(v)
    follow_ups: dict[tuple[int, str], list[FollowUp]] = defaultdict(list)
    for f in (await session.exec(
            select(FollowUp).where(col(FollowUp.phone_bidx).in_(bidxs)))).all():
        follow_ups[(f.project_id, f.phone_bidx)].append(f)
    return caches, visits, follow_ups


async def _mine(
    session: AsyncSession, settings: EdgeSettings, staff_id: int, now: datetime
) -> list[MyCustomer]:
    candidates = set((await session.exec(
        select(CustomerCache.phone_bidx).where(CustomerCache.owner_id == staff_id))).all())
    candidates |= set((await session.exec(
        select(Visit.phone_bidx).where(Visit.owner_id == staff_id))).all())
    # An erased customer's visits are nobody's customer any more (one tombstone each).
    candidates = {b for b in candidates if not is_erased(b)}
    caches, visits, follow_ups = await _gather(session, candidates)
    keys = set(caches) | set(visits)
    customers = [_assemble(settings, k, caches.get(k), visits.get(k, []),
                           follow_ups.get(k, []), now) for k in keys]
    return [c for c in customers if c.owner_id == staff_id]


_STATE_ORDER = {"overdue": 0, "due_soon": 1, "ok": 2}


def _urgency(customer: MyCustomer) -> tuple[int, str, str]:
    if customer.due is None:
        return (3, "", customer.key)
    return (_STATE_ORDER[customer.due.state], customer.due.due_day.isoformat(), customer.key)


async def my_customers(
    store: Store, settings: EdgeSettings, staff: StaffUser, *, now: datetime | None = None
) -> list[MyCustomer]:
    """The customers the consultant owns, the most urgent follow-up first (逾期, then
    待跟进, then by due day)."""
    found = await store.read(_mine, settings, staff.id, now or utcnow())
    return sorted(found, key=_urgency)


async def _one(
    session: AsyncSession, settings: EdgeSettings, staff: StaffUser, key: str, now: datetime
) -> tuple[MyCustomer, list[Visit], list[FollowUp]]:
    project_id, bidx = parse_key(key)
    caches, visits, follow_ups = await _gather(session, {bidx})
    ident = (project_id, bidx)
    if ident not in caches and ident not in visits:
        raise CustomerNotFound()
    customer = _assemble(settings, ident, caches.get(ident), visits.get(ident, []),
                         follow_ups.get(ident, []), now)
    if customer.owner_id != staff.id and not is_manager(staff):
        raise NotYourCustomer()
    return customer, visits.get(ident, []), follow_ups.get(ident, [])


async def customer_history(
    store: Store, settings: EdgeSettings, staff: StaffUser, key: str,
    *, now: datetime | None = None,
) -> tuple[MyCustomer, list[HistoryEntry]]:
    """One of the consultant's customers with its visits and follow-ups on this appliance,
    newest first."""
    customer, visits, follow_ups = await store.read(_one, settings, staff, key, now or utcnow())
    entries = [HistoryEntry("visit", v.occurred_at, v.consultant_id, visit=v) for v in visits]
    entries += [HistoryEntry("follow_up", f.occurred_at, f.consultant_id, follow_up=f)
                for f in follow_ups]
    return customer, sorted(entries, key=lambda e: as_utc(e.at), reverse=True)


@dataclass(frozen=True)
class Revealed:
    phone: str
    name: str | None
    seq: int


async def _reveal_tx(
    session: AsyncSession, settings: EdgeSettings, staff: StaffUser, key: str, reason: str,
    now: datetime,
) -> Revealed:
    customer, visits, _ = await _one(session, settings, staff, key, now)
    latest = max(visits, key=lambda v: v.occurred_at, default=None)
    if latest is None:
        raise PhoneNotHere()
    phone = settings.cipher.decrypt(latest.phone_enc, context=kiosk_service.PHONE_CONTEXT)
    payload = ContactRevealed(project_id=customer.project_id, phone=phone,
                              consultant_id=staff.id, reason=reason)
    seq = await outbox.append(
        session, settings.cipher, event_type=CONTACT_REVEALED, event_id=uuid.uuid4(),
        occurred_at=now, payload=payload.model_dump(mode="json"), now=now)
    return Revealed(phone=phone, name=customer.name, seq=seq)


async def reveal_contact(
    store: Store, settings: EdgeSettings, staff: StaffUser, key: str, reason: str,
    *, now: datetime | None = None,
) -> Revealed:
    """The full number of one of the consultant's customers, to call them; audited in the
    cloud through the `contact.revealed` event written in the same transaction."""
    revealed = await store.write(_reveal_tx, settings, staff, key, reason, now or utcnow())
    store.outbox_committed()
    return revealed

