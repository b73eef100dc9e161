"""A customer's history for the console's customer page: visits and follow-ups merged,
newest first. Scoped like get_customer: another site's customer is 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales import follow_ups, service
from cloud.sales.models import FollowUp, Visit
from shared.timeutil import as_utc

# Enough for a customer page (one visit a day at most); `has_more` says when cut.
MAX_ITEMS = follow_ups.MAX_LIST


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: a visit or a follow-up, with who handled it."""

    at: datetime
    consultant_name: str | None
    visit: Visit | None = None
    follow_up: FollowUp | None = None


@dataclass(frozen=True)
class Timeline:
    customer: service.ShownCustomer
    site_id: str
    owner_name: str | None
    entries: list[Entry]  # newest first
    has_more: bool


_VISITS = (
    select(Visit, User.display_name)
    .outerjoin(User, col(User.id) == Visit.consultant_id)
    .where(Visit.customer_id == bindparam("customer_id"))
    .order_by(col(Visit.occurred_at).desc(), col(Visit.id).desc())
    .limit(bindparam("limit"))
)
_OWNER_NAME = select(User.display_name).where(col(User.id) == bindparam("owner_id"))


def customer_timeline(
    session: Session, *, principal: Principal, customer_id: int, limit: int = MAX_ITEMS
) -> Timeline:
    customer, site_id = service.shown_with_site(session, principal=principal,
                                                customer_id=customer_id)
    owner_name = None
    if customer.owner_id is not None:
        owner_name = session.exec(_OWNER_NAME, params={"owner_id": customer.owner_id}).first()
    visit_rows = session.exec(_VISITS, params={"customer_id": customer_id, "limit": limit + 1}
                              ).all()
    follow_up_rows = follow_ups.of_customer(session, customer_id=customer_id, limit=limit + 1)
    # Each list holds the newest limit+1 of its kind, so the newest `limit` of both are
    # among them. At the same instant a follow-up shows above the visit it follows.
    entries = sorted(
        [Entry(as_utc(v.occurred_at), name, visit=v) for v, name in visit_rows]
        + [Entry(as_utc(f.occurred_at), name, follow_up=f) for f, name in follow_up_rows],
        key=lambda e: (e.at, e.follow_up is not None), reverse=True,
    )
    return Timeline(customer=customer, site_id=site_id, owner_name=owner_name,
                    entries=entries[:limit], has_more=len(entries) > limit)
