"""The sales domain's up-stream event types: kiosk visits and consultants' follow-ups.

Registered with cloud.sync.handlers; each handler applies a whole run of its type with a
fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from cloud.identity.models import User, UserScope
from cloud.sales import follow_ups
from cloud.sales import service as sales_service
from cloud.sales.models import Visit
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.events import (
    FOLLOWUP_RECORDED,
    VISIT_REGISTERED,
    FollowUpRecorded,
    VisitRegistered,
)
from shared.timeutil import as_utc


def apply_visits(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, VisitRegistered]]
) -> list[Outcome]:
    session = ctx.session
    staff = set(session.exec(
        select(UserScope.user_id).where(UserScope.site_id == ctx.site_id)).all())
    visit_ids = [str(event.visit_id) for _, event in items]
    taken = set(session.exec(select(Visit.id).where(col(Visit.id).in_(visit_ids))).all())
    outcomes: list[Outcome | None] = []
    synced: list[tuple[int, sales_service.SyncedVisit, dict[str, Any]]] = []
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
        synced.append((len(outcomes), sales_service.SyncedVisit(
            event=event, occurred_at=occurred, edge_occurred_at=as_utc(envelope.occurred_at),
            time_corrected=corrected, seq=envelope.seq), detail))
        outcomes.append(None)

    recorded = sales_service.record_synced_visits(
        session, settings=ctx.settings, site_id=ctx.site_id, visits=[v for _, v, _ in synced])
    touched: dict[int, sales_service.VisitOutcome] = {}
    for (at, _, detail), result in zip(synced, recorded, strict=True):
        outcomes[at] = Outcome(
            "merged" if result.outcome == "merged" else "applied", ref=result.visit_id,
            detail={"visit_id": result.visit_id, **detail})
        assert result.customer.id is not None
        touched[result.customer.id] = result
    # One down-feed item per customer, in its final state after the run.
    owner_ids = {o.customer.owner_id for o in touched.values() if o.customer.owner_id}
    owners = dict(session.exec(
        select(User.id, User.display_name).where(col(User.id).in_(owner_ids))).all())
    for result in touched.values():
        ctx.feed("customer", *sales_service.customer_feed_item(
            result.customer, phone=result.phone, site_key=ctx.site_key,
            owner_name=owners.get(result.customer.owner_id)))
    return [o for o in outcomes if o is not None]


def apply_follow_ups(
    ctx: ApplyContext, items: Sequence[tuple[Envelope, FollowUpRecorded]]
) -> list[Outcome]:
    results = follow_ups.record_synced(
        ctx.session, settings=ctx.settings, site_id=ctx.site_id, received_at=ctx.received_at,
        items=[follow_ups.SyncedFollowUp(event, envelope.seq) for envelope, event in items])
    return [
        Outcome("rejected", r.reason or "rejected") if r.outcome == "rejected"
        else Outcome("merged" if r.outcome == "merged" else "applied",
                     ref=str(event.follow_up_id), detail=r.detail)
        for (_, event), r in zip(items, results, strict=True)
    ]


register(EventType(VISIT_REGISTERED, VisitRegistered, apply_visits, order=10,
                   audit_key="visits"))
register(EventType(FOLLOWUP_RECORDED, FollowUpRecorded, apply_follow_ups, order=20,
                   audit_key="follow_ups"))
