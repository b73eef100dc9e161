"""Ownership objects on top of the sales world (tests/cloud/sales_world.py): per site a
customer in the public pool with a pending pick-up request, and a 撞单 record."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from cloud.sales import ownership
from cloud.sales.models import Customer, Visit
from cloud.sales.ownership_models import Collision, PickupRequest
from cloud.settings import CloudSettings
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud.sales_world import SiteWorld, apply, envelope

POOL_PHONES = {"site-a": "13700000011", "site-b": "13700000022"}


def visit(db: Session, settings: CloudSettings, site_id: str, site: SiteWorld, phone: str,
          consultant_id: int | None, at: datetime | None = None) -> str:
    """Sync one registration from the site's appliance; the visit's id."""
    visit_id = str(uuid.uuid4())
    result = apply(db, settings, site_id, [envelope(
        site.key, site_id, site.next_seq(), VISIT_REGISTERED,
        {"visit_id": visit_id, "project_id": site.project_id, "phone": phone,
         "party_size": 1, "consultant_id": consultant_id}, at=at)])
    assert result.applied == 1 and not result.rejected, result
    return visit_id


def customer_of(db: Session, site: SiteWorld, phone: str, settings: CloudSettings) -> Customer:
    db.rollback()
    bidx = settings.blind_index.phone(phone)
    return db.exec(select(Customer).where(Customer.project_id == site.project_id,
                                          Customer.phone_bidx == bidx)
                   .execution_options(populate_existing=True)).one()


def to_pool(db: Session, customer: Customer) -> None:
    """Lapse the customer now: its last contact long ago, then the sweep."""
    long_ago = utcnow() - timedelta(days=60)
    customer.last_effective_at = customer.owned_since = long_ago
    db.add(customer)
    db.commit()
    ownership.sweep(db)
    db.commit()
    db.refresh(customer)
    assert customer.ownership == "public", customer


def add_ownership_world(db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    """world["ownership"][site_id] = {"pool": customer id, "pickup": request id,
    "collision": id}. The pool customer's old owner is the site's second consultant (site
    B has one), the pending request its first consultant's."""
    found: dict[str, dict[str, int]] = {}
    for site_id, first, second in (("site-a", "consult_a", "consult_a2"),
                                   ("site-b", "consult_b", "consult_b")):
        site: SiteWorld = world[site_id]
        visit(db, settings, site_id, site, POOL_PHONES[site_id], world[second],
              at=utcnow() - timedelta(days=40))
        customer = customer_of(db, site, POOL_PHONES[site_id], settings)
        to_pool(db, customer)
        assert customer.id is not None
        request = PickupRequest(customer_id=customer.id, project_id=site.project_id,
                                requester_id=world[first], reason="矩阵")
        db.add(request)
        visit_row = db.get(Visit, site.visit_id)
        assert visit_row is not None
        collision = Collision(customer_id=site.customer_id, project_id=site.project_id,
                              visit_id=site.visit_id, owner_id=world[first],
                              consultant_id=world[second], occurred_at=visit_row.occurred_at)
        db.add(collision)
        db.commit()
        assert request.id is not None and collision.id is not None
        found[site_id] = {"pool": customer.id, "pickup": request.id,
                          "collision": collision.id}
    world["ownership"] = found
