"""Customers and visits: applying synced visits with authority, and scoped reading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from shared.crypto import BlindIndex
from shared.errors import NotFound
from shared.events import VisitRegistered
from shared.phone import mask_phone, normalise_phone
from shared.rules import protection_until
from shared.timeutil import as_utc, iso, shanghai_date

PHONE_CONTEXT = "customer.phone"
NAME_CONTEXT = "customer.name"


@dataclass(frozen=True)
class VisitOutcome:
    outcome: str  # applied | merged
    visit_id: str
    customer: Customer
    phone: str


def record_synced_visit(
    session: Session,
    *,
    settings: CloudSettings,
    site_id: str,
    event: VisitRegistered,
    occurred_at: datetime,
    edge_occurred_at: datetime,
    time_corrected: bool,
    seq: int,
) -> VisitOutcome:
    """Apply a kiosk registration. The caller holds the site's sync row lock, and every
    project belongs to one site, so no other writer races on these customers."""
    phone = normalise_phone(event.phone)
    bidx = settings.blind_index.phone(phone)
    customer = session.exec(
        select(Customer).where(
            Customer.project_id == event.project_id, Customer.phone_bidx == bidx
        )
    ).first()
    visit_day = shanghai_date(occurred_at)
    if customer is None:
        customer = Customer(
            project_id=event.project_id,
            phone_enc=settings.cipher.encrypt(phone, context=PHONE_CONTEXT),
            phone_bidx=bidx,
            phone34_bidx=settings.blind_index.phone_masked(phone),
            phone_masked=mask_phone(phone),
            name_enc=settings.cipher.encrypt(event.name, context=NAME_CONTEXT)
            if event.name else None,
            owner_id=event.consultant_id,
            visit_count=0,
            first_visit_at=occurred_at,
            last_visit_at=occurred_at,
            protection_until=protection_until(occurred_at),
        )
        session.add(customer)
        session.flush()
        first = True
    else:
        same_day = session.exec(
            select(Visit).where(Visit.customer_id == customer.id, Visit.visit_date == visit_day)
        ).first()
        if same_day is not None:
            return VisitOutcome("merged", same_day.id, customer, phone)
        first = False
    assert customer.id is not None
    customer.visit_count += 1
    if as_utc(occurred_at) >= as_utc(customer.last_visit_at):
        customer.last_visit_at = occurred_at
        customer.protection_until = protection_until(occurred_at)
    if customer.owner_id is None:
        customer.owner_id = event.consultant_id
    visit = Visit(
        id=str(event.visit_id),
        site_id=site_id,
        project_id=event.project_id,
        customer_id=customer.id,
        consultant_id=event.consultant_id,
        party_size=event.party_size,
        intent=event.intent,
        source=event.source,
        is_first_visit=first,
        visit_date=visit_day,
        occurred_at=occurred_at,
        edge_occurred_at=edge_occurred_at,
        time_corrected=time_corrected,
        event_seq=seq,
    )
    session.add(customer)
    session.add(visit)
    session.flush()
    return VisitOutcome("applied", visit.id, customer, phone)


def customer_feed_item(
    customer: Customer, *, phone: str, site_key: bytes, owner_name: str | None
) -> tuple[str, dict[str, Any]]:
    """The down-feed form: indexed with the site's own key, so appliances share no secret."""
    site_bidx = BlindIndex(site_key).phone(phone)
    return f"{customer.project_id}:{site_bidx}", {
        "project_id": customer.project_id,
        "phone_bidx": site_bidx,
        "phone_masked": customer.phone_masked,
        "owner_id": customer.owner_id,
        "owner_name": owner_name,
        "visit_count": customer.visit_count,
        "first_visit_at": iso(customer.first_visit_at),
        "last_visit_at": iso(customer.last_visit_at),
        "protection_until": iso(customer.protection_until),
        "customer_ref": str(customer.id),
    }


# ---- reading, scoped by the principal's sites ------------------------------------------


@dataclass(frozen=True)
class VisitFilter:
    site_id: str | None = None
    project_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_visits(
    session: Session, *, principal: Principal, filters: VisitFilter, cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Visit, Customer, str | None]], str | None]:
    """Newest first; the cursor is the last row's (occurred_at, id)."""
    query = (
        select(Visit, Customer, User.display_name)
        .join(Customer, col(Customer.id) == Visit.customer_id)
        .outerjoin(User, col(User.id) == Visit.consultant_id)
    )
    if principal.site_ids is not None:
        query = query.where(col(Visit.site_id).in_(principal.site_ids))
    if filters.site_id:
        query = query.where(Visit.site_id == filters.site_id)
    if filters.project_id:
        query = query.where(Visit.project_id == filters.project_id)
    if filters.date_from:
        query = query.where(col(Visit.visit_date) >= filters.date_from)
    if filters.date_to:
        query = query.where(col(Visit.visit_date) <= filters.date_to)
    if cursor:
        at_text, _, last_id = cursor.partition("|")
        at = datetime.fromisoformat(at_text)
        query = query.where(
            (col(Visit.occurred_at) < at)
            | ((col(Visit.occurred_at) == at) & (col(Visit.id) < last_id))
        )
    rows = session.exec(
        query.order_by(col(Visit.occurred_at).desc(), col(Visit.id).desc()).limit(limit + 1)
    ).all()
    page: list[tuple[Visit, Customer, str | None]] = [(v, c, n) for v, c, n in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1][0]
        next_cursor = f"{as_utc(last.occurred_at).isoformat()}|{last.id}"
    return page, next_cursor


def count_visits(session: Session, *, site_id: str) -> int:
    query = select(func.count()).select_from(Visit).where(Visit.site_id == site_id)
    return session.exec(query).one()


def _customer_site(session: Session, customer: Customer) -> str:
    from cloud.catalog.models import Project

    project = session.get(Project, customer.project_id)
    assert project is not None
    return project.site_id


def get_customer(session: Session, *, principal: Principal, customer_id: int) -> Customer:
    """Out-of-scope customers answer 404, so a consultant learns nothing of other sites."""
    customer = session.get(Customer, customer_id)
    if customer is None or not principal.sees_site(_customer_site(session, customer)):
        raise NotFound("客户不存在或不在您的数据范围内", code="customer_not_found")
    return customer


def find_customers(
    session: Session, *, principal: Principal, settings: CloudSettings, phone: str
) -> list[Customer]:
    """Search by full number through the blind index; the number itself is never queried."""
    bidx = settings.blind_index.phone(normalise_phone(phone))
    rows = session.exec(select(Customer).where(Customer.phone_bidx == bidx)).all()
    return [c for c in rows if principal.sees_site(_customer_site(session, c))]


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


def decrypt_name(settings: CloudSettings, customer: Customer) -> str | None:
    if customer.name_enc is None:
        return None
    return settings.cipher.decrypt(customer.name_enc, context=NAME_CONTEXT)
