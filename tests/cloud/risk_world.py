"""Facts for the risk-check scenarios: a customer of the office with visits and
follow-ups at chosen times, as the sales domain stores them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from cloud.sales.models import Customer, FollowUp, Visit
from cloud.sales.service import NAME_CONTEXT, PHONE_CONTEXT
from cloud.settings import CloudSettings
from shared.phone import mask_phone
from shared.timeutil import shanghai_date


def add_customer(db: Session, settings: CloudSettings, *, project_id: int, phone: str,
                 first_at: datetime, name: str | None = None) -> Customer:
    customer = Customer(
        project_id=project_id,
        phone_enc=settings.cipher.encrypt(phone, context=PHONE_CONTEXT),
        phone_bidx=settings.blind_index.phone(phone),
        phone34_bidx=settings.blind_index.phone_masked(phone), phone_masked=mask_phone(phone),
        name_enc=settings.cipher.encrypt(name, context=NAME_CONTEXT) if name else None,
        first_visit_at=first_at, last_visit_at=first_at, protection_until=first_at)
    db.add(customer)
    db.commit()
    return customer


def add_visit(db: Session, customer: Customer, at: datetime,
              consultant_id: int | None = None) -> Visit:
    assert customer.id is not None
    visit = Visit(id=str(uuid.uuid4()), site_id="site-a", project_id=customer.project_id,
                  customer_id=customer.id, consultant_id=consultant_id, party_size=1,
                  source="walk_in", is_first_visit=True, visit_date=shanghai_date(at),
                  occurred_at=at, edge_occurred_at=at, event_seq=1)
    db.add(visit)
    db.commit()
    return visit


def add_follow_up(db: Session, customer: Customer, at: datetime, consultant_id: int) -> None:
    assert customer.id is not None
    db.add(FollowUp(id=str(uuid.uuid4()), site_id="site-a", project_id=customer.project_id,
                    customer_id=customer.id, consultant_id=consultant_id, kind="call",
                    reached=True, effective=True, occurred_at=at, recorded_via="cloud"))
    db.commit()
