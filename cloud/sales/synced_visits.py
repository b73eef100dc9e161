"""Applying synced visits with authority: each visit's customer found or created, its
ownership decided, and the run's customers and visits inserted set-based."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from cloud.bulk import insert_rows
from cloud.sales import ownership
from cloud.sales.customer_feed import CustomerFacts
from cloud.sales.free_text import INTENT_CONTEXT, seal
from cloud.sales.models import Customer, Visit, is_later_contact
from cloud.sales.ownership_models import OVERDUE, OWNED
from cloud.sales.ownership_rules import protection_end, rules_for
from cloud.sales.service import NAME_CONTEXT, PHONE_CONTEXT
from cloud.sales.stages import VISITED
from cloud.settings import CloudSettings
from shared.events import VisitRegistered
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import as_utc, shanghai_date, utcnow


@dataclass(frozen=True)
class SyncedVisit:
    """A validated registration with its time already on the cloud clock."""

    event: VisitRegistered
    occurred_at: datetime
    edge_occurred_at: datetime
    time_corrected: bool
    seq: int


@dataclass
class NewCustomer:
    """A customer first seen in a sync run. All of a run's new customers go in with one
    INSERT: an ORM object per customer cost more than the rest of its visit."""

    project_id: int
    phone_enc: str
    phone_bidx: str
    phone34_bidx: str
    phone_masked: str
    name_enc: str | None
    owner_id: int | None
    first_visit_at: datetime
    last_visit_at: datetime
    protection_until: datetime
    last_effective_at: datetime | None
    owned_since: datetime | None
    visit_count: int = 0
    ownership: str = OWNED
    status: str = VISITED
    payment_method: str | None = None
    id: int | None = None

    def contacted(self, at: datetime) -> None:
        if is_later_contact(at, self.last_effective_at):
            self.last_effective_at = at

    def row(self, now: datetime) -> dict[str, Any]:
        return {**{f: getattr(self, f) for f in _NEW_CUSTOMER_COLUMNS}, "created_at": now}


_NEW_CUSTOMER_COLUMNS = tuple(f for f in NewCustomer.__dataclass_fields__ if f != "id")


@dataclass(frozen=True)
class VisitOutcome:
    outcome: str  # applied | merged
    visit_id: str
    customer: CustomerFacts
    phone: str


def record_synced_visits(
    session: Session, *, settings: CloudSettings, site_id: str, visits: Sequence[SyncedVisit]
) -> list[VisitOutcome]:
    """Apply kiosk registrations in seq order with a fixed number of queries per batch.

    The caller holds the site's sync row lock, and every project belongs to one site, so
    no other writer races on these customers. Known customers are ORM rows (their few
    changes flushed as updates); new customers and all visits are inserted set-based.
    """
    phones = [normalise_phone(v.event.phone) for v in visits]
    bidx = {phone: settings.blind_index.phone(phone) for phone in phones}
    wanted = {(v.event.project_id, bidx[p]) for v, p in zip(visits, phones, strict=True)}
    customers: dict[tuple[int, str], CustomerFacts] = {}
    if wanted:
        found = session.exec(
            select(Customer).where(col(Customer.phone_bidx).in_({b for _, b in wanted}))
        ).all()
        customers = {(c.project_id, c.phone_bidx): c for c in found
                     if (c.project_id, c.phone_bidx) in wanted}
    # Visits already recorded on the days of this batch: one customer, one day, one visit.
    day_visit: dict[tuple[int, str, date], str] = {}
    rules = rules_for(session, {v.event.project_id for v in visits})
    by_id = {c.id: key for key, c in customers.items()}
    if by_id:
        days = {shanghai_date(v.occurred_at) for v in visits}
        for visit_id, customer_id, day in session.exec(
            select(col(Visit.id), col(Visit.customer_id), col(Visit.visit_date)).where(
                col(Visit.customer_id).in_(by_id), col(Visit.visit_date).in_(days)
            )
        ).all():
            day_visit[(*by_id[customer_id], day)] = visit_id

    plan: list[tuple[SyncedVisit, str, tuple[int, str], date, bool | None]] = []
    fresh: list[NewCustomer] = []
    facts: list[ownership.VisitFact] = []
    for synced, phone in zip(visits, phones, strict=True):
        event, at = synced.event, synced.occurred_at
        key = (event.project_id, bidx[phone])
        customer = customers.get(key)
        if customer is None:
            customer = NewCustomer(
                project_id=event.project_id,
                phone_enc=settings.cipher.encrypt(phone, context=PHONE_CONTEXT),
                phone_bidx=key[1],
                phone34_bidx=settings.blind_index.phone_masked(phone),
                phone_masked=mask_phone(phone),
                name_enc=settings.cipher.encrypt(event.name, context=NAME_CONTEXT)
                if event.name else None,
                owner_id=event.consultant_id, first_visit_at=at, last_visit_at=at,
                protection_until=protection_end(at, rules[event.project_id].protection_days),
                last_effective_at=at, owned_since=at if event.consultant_id else None,
            )
            customers[key] = customer
            fresh.append(customer)
        day = shanghai_date(at)
        if (*key, day) in day_visit:
            plan.append((synced, phone, key, day, None))
            continue
        day_visit[(*key, day)] = str(event.visit_id)
        first = customer.visit_count == 0
        customer.visit_count += 1
        customer.contacted(at)  # a visit is an effective contact
        facts.append(_ownership_on_visit(
            customer, synced, protection_days=rules[event.project_id].protection_days))
        plan.append((synced, phone, key, day, first))
    now = utcnow()
    inserted = insert_rows(session, Customer, [c.row(now) for c in fresh],
                           returning=("id", "project_id", "phone_bidx"))
    for new_id, project_id, phone_bidx in inserted:
        customers[(project_id, phone_bidx)].id = new_id
    session.flush()  # the changes to known customers, before their visits

    outcomes: list[VisitOutcome] = []
    rows: list[dict[str, Any]] = []
    for synced, phone, key, day, is_first in plan:
        event, customer = synced.event, customers[key]
        if is_first is None:
            outcomes.append(VisitOutcome("merged", day_visit[(*key, day)], customer, phone))
            continue
        rows.append({
            "id": str(event.visit_id), "site_id": site_id, "project_id": event.project_id,
            "customer_id": customer.id, "consultant_id": event.consultant_id,
            "party_size": event.party_size, "source": event.source,
            "intent_enc": seal(settings, event.intent, context=INTENT_CONTEXT),
            "is_first_visit": is_first, "visit_date": day, "occurred_at": synced.occurred_at,
            "edge_occurred_at": synced.edge_occurred_at,
            "time_corrected": synced.time_corrected, "event_seq": synced.seq,
            **consent_columns(event),
            # The appliance's provisional 判客, kept to show where the cloud's differs.
            "edge_attribution": event.edge_attribution.model_dump(mode="json")
            if event.edge_attribution else None,
            "created_at": now,
        })
        outcomes.append(VisitOutcome("applied", str(event.visit_id), customer, phone))
    insert_rows(session, Visit, rows)
    ownership.record_visit_facts(session, facts)
    return outcomes


def _ownership_on_visit(customer: CustomerFacts, synced: SyncedVisit, *,
                        protection_days: int) -> ownership.VisitFact:
    """First receiver owns; a return visit restarts protection (and revives an overdue
    owner); another consultant receiving an owned customer is 撞单. A customer in the
    public pool or marked invalid stays so: a pick-up or a manager decides."""
    event, at = synced.event, synced.occurred_at
    previous = customer.owner_id
    step: str | None = None
    if as_utc(at) >= as_utc(customer.last_visit_at):
        customer.last_visit_at = at
        customer.protection_until = protection_end(at, protection_days)
        if customer.visit_count > 1 and customer.ownership == OVERDUE and previous:
            customer.ownership = OWNED
            step = ownership.RETURN
    if customer.visit_count == 1 and previous is not None:
        step = ownership.RECEIVE  # a new customer, received
    elif previous is None and customer.ownership in (OWNED, OVERDUE) and event.consultant_id:
        customer.owner_id = event.consultant_id
        customer.owned_since = at
        customer.ownership = OWNED
        step = ownership.RECEIVE
    collided = (previous if previous is not None and event.consultant_id is not None
                and event.consultant_id != previous else None)
    return ownership.VisitFact(customer=customer, visit_id=str(event.visit_id),
                               consultant_id=event.consultant_id, at=at, step=step,
                               from_owner_id=None if step == ownership.RECEIVE else previous,
                               collided_owner_id=collided)


def consent_columns(event: VisitRegistered) -> dict[str, Any]:
    """The visit's consent columns; all None for an event of an agent older than edge
    schema v9 (it recorded no consent, and none is invented)."""
    consent = event.consent
    return {
        "consent_notice_version": consent.notice_version if consent else None,
        "consent_method": consent.method if consent else None,
        "consent_accepted_at": consent.accepted_at if consent else None,
        "consent_recorded_at": consent.recorded_at if consent else None,
        "consent_tablet": consent.tablet if consent else None,
    }
