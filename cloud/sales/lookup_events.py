"""The kiosk's customer look-ups (`customer.looked_up`) and the consultants' searches on
the phone (`customer.searched`), recorded in the cloud's audit log: the appliance has no
audit log of its own, and a look-up shows whose customer a number is.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from cloud.audit import service as audit_service
from cloud.sales.models import Customer
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.events import (
    CUSTOMER_LOOKED_UP,
    CUSTOMER_SEARCHED,
    CustomerLookedUp,
    CustomerSearched,
)
from shared.phone import mask_phone
from shared.timeutil import iso


def apply_lookups(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, CustomerLookedUp]]
) -> list[Outcome]:
    session = ctx.session
    bidx = {e.phone: ctx.settings.blind_index.phone(e.phone) for _, e in items}
    customers = {(c.project_id, c.phone_bidx): c.id for c in session.exec(
        select(Customer).where(col(Customer.phone_bidx).in_(bidx.values())))}
    outcomes = []
    for envelope, event in items:
        customer_id = customers.get((event.project_id, bidx[event.phone]))
        occurred, _ = ctx.event_time(envelope)
        audit_service.record(
            session, action="customer.lookup", actor=f"kiosk:{ctx.site_id}",
            ip=event.tablet[:45], object_type="customer", object_id=str(customer_id or ""),
            detail={"via": f"site:{ctx.site_id}", "tablet": event.tablet,
                    "project_id": event.project_id, "known": event.known,
                    "looked_up_at": iso(occurred), "phone_masked": mask_phone(event.phone),
                    # The number's blind index: a referral of a number the office did not
                    # know yet is matched to this look-up exactly (渠道风控).
                    "phone_bidx": bidx[event.phone]},
        )
        outcomes.append(Outcome("applied", ref=str(customer_id or envelope.event_id)))
    return outcomes


register(EventType(CUSTOMER_LOOKED_UP, CustomerLookedUp, apply_lookups, order=40,
                   audit_key="customer_lookups"))


def apply_searches(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, CustomerSearched]]
) -> list[Outcome]:
    outcomes = []
    for envelope, event in items:
        occurred, _ = ctx.event_time(envelope)
        audit_service.record(
            ctx.session, action="customer.search", actor=f"user:{event.consultant_id}",
            object_type="customer", object_id="",
            detail={"via": f"site:{ctx.site_id}", "by": event.by, "matches": event.matches,
                    "searched_at": iso(occurred),
                    "phone_masked": mask_phone(event.phone) if event.phone else None,
                    "phone_bidx": ctx.settings.blind_index.phone(event.phone)
                    if event.phone else None},
        )
        outcomes.append(Outcome("applied", ref=str(envelope.event_id)))
    return outcomes


# The search is the consultant's across the site's projects: no project to check.
register(EventType(CUSTOMER_SEARCHED, CustomerSearched, apply_searches, order=41,
                   audit_key="customer_searches", scope="site"))
