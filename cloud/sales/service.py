"""Customers and visits: applying synced visits with authority, and scoped reading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import select as core_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.bulk import insert_rows
from cloud.identity.deps import Principal
from cloud.sales import ownership
from cloud.sales.free_text import INTENT_CONTEXT, seal
from cloud.sales.models import ERASED_MASK, Customer, Visit, is_later_contact
from cloud.sales.ownership_models import OVERDUE, OWNED
from cloud.sales.ownership_rules import protection_end, rules_for
from cloud.sales.stages import VISITED
from cloud.settings import CloudSettings
from shared.crypto import BlindIndex
from shared.dbtypes import table_of
from shared.errors import NotFound
from shared.events import VisitRegistered
from shared.names import mask_name
from shared.phone import mask_phone, normalise_phone
from shared.rules import NotYourCustomer
from shared.timeutil import as_utc, iso, shanghai_date, utcnow

PHONE_CONTEXT = "customer.phone"
NAME_CONTEXT = "customer.name"


@dataclass(frozen=True)
class SyncedVisit:
    """A validated registration with its time already on the cloud clock."""

    event: VisitRegistered
    occurred_at: datetime
    edge_occurred_at: datetime
    time_corrected: bool
    seq: int


class CustomerFacts(Protocol):
    """What the down-feed states about a customer: a stored row or one just inserted."""

    id: int | None
    project_id: int
    phone_enc: str
    phone_masked: str
    name_enc: str | None
    owner_id: int | None
    visit_count: int
    first_visit_at: datetime
    last_visit_at: datetime
    protection_until: datetime
    last_effective_at: datetime | None
    ownership: str
    owned_since: datetime | None
    status: str
    payment_method: str | None

    def contacted(self, at: datetime) -> None: ...


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


def erased_feed_item(project_id: int, *, phone: str, site_key: bytes
                     ) -> tuple[str, dict[str, Any]]:
    """The down-feed item that tells an appliance a customer was erased: only the key.

    Its kind stays "customer" (not a new kind) so that agents older than edge schema v9,
    which refuse a batch with a kind they do not know, keep syncing: they upsert the
    blanked row; newer agents see `erased` and delete the row and anonymise the visits
    and follow-ups they hold of that customer.
    """
    site_bidx = BlindIndex(site_key).phone(phone)
    return f"{project_id}:{site_bidx}", {
        "project_id": project_id, "phone_bidx": site_bidx, "phone_masked": ERASED_MASK,
        "erased": True,
    }


def customer_feed_item(
    customer: CustomerFacts, *, phone: str, site_key: bytes, owner_name: str | None,
    name: str | None,
) -> tuple[str, dict[str, Any]]:
    """The down-feed form: indexed with the site's own key, so appliances share no secret."""
    site_bidx = BlindIndex(site_key).phone(phone)
    return f"{customer.project_id}:{site_bidx}", {
        "project_id": customer.project_id,
        "phone_bidx": site_bidx,
        "phone_masked": customer.phone_masked,
        "name_masked": mask_name(name),
        "owner_id": customer.owner_id,
        "owner_name": owner_name,
        "visit_count": customer.visit_count,
        "first_visit_at": iso(customer.first_visit_at),
        "last_visit_at": iso(customer.last_visit_at),
        "protection_until": iso(customer.protection_until),
        "last_effective_at": iso(customer.last_effective_at)
        if customer.last_effective_at else None,
        "customer_ref": str(customer.id),
        # Customer 360 on the consultant's phone filters by these offline (edge schema v14).
        "status": customer.status,
        "ownership": customer.ownership,
        "payment_method": customer.payment_method,
    }


# ---- reading, scoped by the principal's sites ------------------------------------------


def _customers_with_site(session: Session, *criteria: ColumnElement[bool]
                         ) -> list[tuple[Customer, str]]:
    """Customers with their project's site, in one query: the scope check needs the site
    on every customer read (issue #24: one statement, not two)."""
    from cloud.catalog.models import Project

    rows = session.exec(
        select(Customer, Project.site_id)
        .join(Project, col(Project.id) == Customer.project_id)
        .where(*criteria)
    ).all()
    return [(customer, site_id) for customer, site_id in rows]


def _not_in_scope() -> NotFound:
    # Absent and out of scope answer alike: a consultant learns nothing of other sites.
    return NotFound("客户不存在或不在您的数据范围内", code="customer_not_found")


class ShownCustomer(Protocol):
    """A customer as the API shows it, with its project's site for the scope check. Read
    as a plain row of these columns, not an ORM entity: building the entity was about a
    third of a customer read's CPU (issue #24)."""

    id: int
    project_id: int
    name_enc: str | None
    phone_masked: str
    owner_id: int | None
    status: str
    visit_count: int
    first_visit_at: datetime
    last_visit_at: datetime
    protection_until: datetime


class ShownInScope(ShownCustomer, Protocol):
    """A shown customer with the site of its project, which the scope check reads."""

    site_id: str


# Table columns, executed on the session's connection: an ORM-enabled select of the same
# columns goes through the ORM's statement set-up, which cost as much as the entity did.
_SHOWN_COLUMNS = tuple(table_of(Customer).c[name] for name in ShownCustomer.__annotations__)


def _shown_in_scope(session: Session, principal: Principal, *criteria: ColumnElement[bool]
                    ) -> list[ShownInScope]:
    from cloud.catalog.models import Project

    customer, project = table_of(Customer), table_of(Project)
    rows = session.connection().execute(
        core_select(*_SHOWN_COLUMNS, project.c.site_id)
        .join(project, project.c.id == customer.c.project_id)
        .where(*criteria)
    ).all()
    return [cast(ShownInScope, row) for row in rows if principal.sees_site(row.site_id)]


def show_customer(session: Session, *, principal: Principal, customer_id: int
                  ) -> ShownCustomer:
    """get_customer for showing: the same answer, read as a plain row."""
    return shown_with_site(session, principal=principal, customer_id=customer_id)[0]


def shown_with_site(session: Session, *, principal: Principal, customer_id: int
                    ) -> tuple[ShownCustomer, str]:
    """show_customer, with the site of its project that the scope check read anyway."""
    found = _shown_in_scope(session, principal, table_of(Customer).c.id == customer_id)
    if not found:
        raise _not_in_scope()
    return found[0], found[0].site_id


def get_customer(session: Session, *, principal: Principal, customer_id: int) -> Customer:
    """Out-of-scope customers answer 404, so a consultant learns nothing of other sites."""
    return customer_and_site(session, principal=principal, customer_id=customer_id)[0]


def customer_and_site(session: Session, *, principal: Principal, customer_id: int
                      ) -> tuple[Customer, str]:
    """get_customer, with the site of its project that the scope check read anyway."""
    found = _customers_with_site(session, col(Customer.id) == customer_id)
    if not found or not principal.sees_site(found[0][1]):
        raise _not_in_scope()
    return found[0]


def find_customers(
    session: Session, *, principal: Principal, settings: CloudSettings, phone: str
) -> list[ShownCustomer]:
    """Search by full number through the blind index; the number itself is never queried.

    Audited as `customer.search` (who searched which customer: one row per customer
    found, or one naming the number by its blind index and mask when none was), so the
    channel's risk check sees searches made before a broker's referral."""
    number = normalise_phone(phone)
    bidx = settings.blind_index.phone(number)
    found: list[ShownCustomer] = list(
        _shown_in_scope(session, principal, table_of(Customer).c.phone_bidx == bidx))
    detail = {"phone_masked": mask_phone(number), "phone_bidx": bidx,
              "searched_at": iso(utcnow())}
    named: list[ShownCustomer | None] = list(found) or [None]
    for customer in named:
        audit_service.record(
            session, action="customer.search", principal=principal, ip=principal.ip,
            object_type="customer", object_id=str(customer.id) if customer else "",
            # Unknown numbers: the sites searched (None: all), to match a later referral.
            detail={**detail, **({"project_id": customer.project_id} if customer else
                                 {"site_ids": None if principal.site_ids is None
                                  else sorted(principal.site_ids)})})
    return found


def unmask_phone(
    session: Session, *, principal: Principal, settings: CloudSettings, customer_id: int,
    reason: str,
) -> str:
    customer = get_customer(session, principal=principal, customer_id=customer_id)
    phone = settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT)
    audit_service.record(
        session, action="customer.unmask", principal=principal, ip=principal.ip,
        object_type="customer", object_id=str(customer.id),
        detail={"field": "phone", "reason": reason},
    )
    return phone


def reveal_for_contact(
    session: Session, *, principal: Principal, settings: CloudSettings, customer_id: int,
    reason: str,
) -> tuple[Customer, str]:
    """The number of a customer the consultant owns, to call them (tap-to-call): audited
    as any unmasking, with its purpose."""
    customer = get_customer(session, principal=principal, customer_id=customer_id)
    if customer.owner_id != principal.user_id:
        raise NotYourCustomer()
    phone = settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT)
    audit_service.record(
        session, action="customer.unmask", principal=principal, ip=principal.ip,
        object_type="customer", object_id=str(customer.id),
        detail={"field": "phone", "reason": reason, "purpose": "call", "via": "cloud"},
    )
    return customer, phone


class Named(Protocol):
    name_enc: str | None


def decrypt_name(settings: CloudSettings, customer: Named) -> str | None:
    if customer.name_enc is None:
        return None
    return settings.cipher.decrypt(customer.name_enc, context=NAME_CONTEXT)


def masked_name(settings: CloudSettings, customer: Named) -> str | None:
    """张** — the form shown to roles that may not see the name (of fixed length)."""
    return mask_name(decrypt_name(settings, customer))
