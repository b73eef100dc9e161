"""The sales domain's up-stream event types: kiosk visits and consultants' follow-ups.

Registered with cloud.sync.handlers; each handler applies a whole run of its type with a
fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from cloud.audit import service as audit_service
from cloud.identity.models import User, UserScope
from cloud.reception import regions as reception_regions
from cloud.sales import customer_feed, follow_ups, synced_visits
from cloud.sales import service as sales_service
from cloud.sales.models import Customer, Visit
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.events import (
    CONTACT_REVEALED,
    FOLLOWUP_RECORDED,
    VISIT_REGISTERED,
    ContactRevealed,
    FollowUpRecorded,
    VisitRegistered,
)
from shared.phone import mask_phone
from shared.timeutil import as_utc, iso


def apply_visits(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, VisitRegistered]]
) -> list[Outcome]:
    session = ctx.session
    staff = set(session.exec(
        select(UserScope.user_id).where(UserScope.site_id == ctx.site_id)).all())
    visit_ids = [str(event.visit_id) for _, event in items]
    taken = set(session.exec(select(Visit.id).where(col(Visit.id).in_(visit_ids))).all())
    outcomes: list[Outcome | None] = []
    synced: list[tuple[int, synced_visits.SyncedVisit, dict[str, Any]]] = []
    for envelope, event in items:
        detail: dict[str, Any] = {}
        if event.consultant_id is not None and event.consultant_id not in staff:
            # The visit is real; only the consultant is unknown here. Keep the visit.
            detail["dropped_consultant_id"] = event.consultant_id
            event = event.model_copy(update={"consultant_id": None})
        visit_id = str(event.visit_id)
        if visit_id in taken:
            outcomes.append(Outcome("rejected", "conflict"))
            continue
        taken.add(visit_id)
        occurred, corrected = ctx.event_time(envelope)
        synced.append((len(outcomes), synced_visits.SyncedVisit(
            event=event, occurred_at=occurred, edge_occurred_at=as_utc(envelope.occurred_at),
            time_corrected=corrected, seq=envelope.seq), detail))
        outcomes.append(None)

    recorded = synced_visits.record_synced_visits(
        session, settings=ctx.settings, site_id=ctx.site_id, visits=[v for _, v, _ in synced])
    reception_regions.record_regions(
        session, [(r.visit_id, r.phone) for r in recorded if r.outcome != "merged"])
    touched: dict[int, synced_visits.VisitOutcome] = {}
    for (at, _, detail), result in zip(synced, recorded, strict=True):
        outcomes[at] = Outcome(
            "merged" if result.outcome == "merged" else "applied", ref=result.visit_id,
            detail={"visit_id": result.visit_id, **detail})
        assert result.customer.id is not None
        touched[result.customer.id] = result
    _announce(ctx, [o.customer for o in touched.values()],
              {cid: o.phone for cid, o in touched.items()})
    return [o for o in outcomes if o is not None]


def _announce(ctx: ApplyContext, customers: Sequence[customer_feed.CustomerFacts],
              phones: dict[int, str] | None = None) -> None:
    """One down-feed item per customer, in its final state after the run."""
    if not customers:
        return
    owner_ids = {c.owner_id for c in customers if c.owner_id}
    owners = dict(ctx.session.exec(
        select(User.id, User.display_name).where(col(User.id).in_(owner_ids))).all())
    items = []
    for customer in customers:
        assert customer.id is not None
        phone = (phones or {}).get(customer.id) or ctx.settings.cipher.decrypt(
            customer.phone_enc, context=sales_service.PHONE_CONTEXT)
        items.append(customer_feed.customer_feed_item(
            customer, phone=phone, site_key=ctx.site_key,
            owner_name=owners.get(customer.owner_id),
            name=sales_service.decrypt_name(ctx.settings, customer)))
    ctx.feed("customer", items)


def apply_follow_ups(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, FollowUpRecorded]]
) -> list[Outcome]:
    results, touched = follow_ups.record_synced(
        ctx.session, settings=ctx.settings, site_id=ctx.site_id, received_at=ctx.received_at,
        items=[follow_ups.SyncedFollowUp(event, envelope.seq) for envelope, event in items])
    _announce(ctx, touched)
    return [
        Outcome("rejected", r.reason or "rejected") if r.outcome == "rejected"
        else Outcome("merged" if r.outcome == "merged" else "applied",
                     ref=str(event.follow_up_id), detail=r.detail)
        for (_, event), r in zip(items, results, strict=True)
    ]


def apply_reveals(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, ContactRevealed]]
) -> list[Outcome]:
    """A consultant had a number shown on the appliance: the cloud's audit log records it
    as any other unmasking, naming the appliance and when it happened there."""
    session = ctx.session
    bidx = {e.phone: ctx.settings.blind_index.phone(e.phone) for _, e in items}
    customers = {(c.project_id, c.phone_bidx): c.id for c in session.exec(
        select(Customer).where(col(Customer.phone_bidx).in_(bidx.values())))}
    users = dict(session.exec(select(User.id, User.username).where(
        col(User.id).in_({e.consultant_id for _, e in items}))).all())
    outcomes = []
    for envelope, event in items:
        customer_id = customers.get((event.project_id, bidx[event.phone]))
        occurred, _ = ctx.event_time(envelope)
        audit_service.record(
            session, action="customer.unmask",
            actor=users.get(event.consultant_id, f"user:{event.consultant_id}"),
            actor_id=event.consultant_id if event.consultant_id in users else None,
            object_type="customer", object_id=str(customer_id or ""),
            detail={"field": "phone", "reason": event.reason, "purpose": "call",
                    "via": f"site:{ctx.site_id}", "revealed_at": iso(occurred),
                    "phone_masked": mask_phone(event.phone)},
        )
        outcomes.append(Outcome("applied", ref=str(customer_id or envelope.event_id)))
    return outcomes


register(EventType(VISIT_REGISTERED, VisitRegistered, apply_visits, order=10,
                   audit_key="visits"))
register(EventType(FOLLOWUP_RECORDED, FollowUpRecorded, apply_follow_ups, order=20,
                   audit_key="follow_ups"))
register(EventType(CONTACT_REVEALED, ContactRevealed, apply_reveals, order=30,
                   audit_key="contact_reveals"))
