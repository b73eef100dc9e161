"""The channel domain's up-stream event types: 扫码带看 check-ins and refused codes.

A check-in is judged again at the cloud, whatever the appliance decided: the code's
nonce must not have been used at any appliance (the second use anywhere is recorded as
`replayed`, a risk signal, and refused), the referral must be the broker's at this
project; then the guided visit gets its broker and referral and the referral is decided
again by the engine. The appliance's provisional answer is kept beside the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog import position
from cloud.channel import history, risk_cases
from cloud.channel.models import QrScan, Referral
from cloud.channel.redecide import redecide
from cloud.sales.models import Customer, Visit
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.events import QR_CHECKED_IN, QR_REFUSED, GuidePicked, QrCheckedIn, QrRefused
from shared.timeutil import iso, shanghai_date


def visit_of_the_day(session: Session, ctx: ApplyContext, event: QrCheckedIn | GuidePicked,
                     day: Any) -> Visit | None:
    """The sales visit a guide confirms (a scan, a hand pick): the event's own, or the
    customer's visit of that day when the cloud merged it into an earlier one."""
    visit = session.get(Visit, str(event.visit_id))
    if visit is not None:
        return visit
    customer = session.exec(select(Customer).where(
        Customer.project_id == event.project_id,
        Customer.phone_bidx == ctx.settings.blind_index.phone(event.phone))).first()
    if customer is None:
        return None
    return session.exec(select(Visit).where(Visit.customer_id == customer.id,
                                            Visit.visit_date == day)).first()


def _scan(ctx: ApplyContext, envelope: Envelope, event: QrCheckedIn, **values: Any) -> QrScan:
    scanned_at, _ = ctx.event_time(envelope)
    row = QrScan(event_id=str(envelope.event_id), site_id=ctx.site_id,
                 project_id=event.project_id, referral_id=event.referral_id,
                 broker_id=event.broker_id, key_id=event.key_id, nonce=event.nonce,
                 scanned_at=scanned_at, received_at=ctx.received_at,
                 edge_state=event.edge_state, edge_reason=event.edge_reason,
                 lat=event.lat, lng=event.lng, **values)
    if event.lat is not None and event.lng is not None:
        row.position_source = "device"
    ctx.session.add(row)
    return row


def confirmed_here(session: Session, scan: QrScan) -> None:
    """An accepted guide (a scan, a hand pick) was confirmed at the site's kiosk: without
    the kiosk's own position, the site's configured one is its place (ADR 0060)."""
    if scan.position_source is not None:
        return
    place = position.of_site(session, scan.site_id)
    if place is not None:
        scan.lat, scan.lng, scan.position_source = place.lat, place.lng, place.source


def apply_check_ins(ctx: ApplyContext, items: Sequence[tuple[Envelope, QrCheckedIn]]
                    ) -> list[Outcome]:
    session = ctx.session
    outcomes = []
    for envelope, event in items:
        referral = session.get(Referral, event.referral_id)
        if referral is None or (referral.project_id, referral.broker_id) != (
                event.project_id, event.broker_id):
            _scan(ctx, envelope, event, outcome="refused", reason_code="qr_referral_unknown")
            outcomes.append(Outcome("rejected", "qr_referral_unknown"))
            continue
        # One code, one use across every appliance: serialised on the nonce (PostgreSQL),
        # and the unique accepted_nonce holds whatever happens.
        history.lock(session, f"channel:qr:{event.nonce}")
        used = session.exec(select(QrScan).where(
            QrScan.accepted_nonce == event.nonce)).first()
        if used is not None:
            replay = _scan(ctx, envelope, event, outcome="replayed", reason_code="qr_replayed")
            # A code used twice raises a review case (渠道风控); the owner stays as it is.
            risk_cases.record_duplicate_qr(session, referral=referral, scans=[
                {"at": iso(s.scanned_at), "device": s.site_id, "outcome": s.outcome}
                for s in (used, replay)])
            audit_service.record(
                session, action="channel.qr_replayed", result="failure",
                actor=f"site:{ctx.site_id}", object_type="channel_referral",
                object_id=str(referral.id),
                detail={"nonce": event.nonce, "first_site": used.site_id,
                        "first_event": used.event_id, "broker_id": event.broker_id})
            outcomes.append(Outcome("rejected", "qr_replayed"))
            continue
        scan = _scan(ctx, envelope, event, outcome="accepted", reason_code="ok",
                     accepted_nonce=event.nonce)
        confirmed_here(session, scan)
        visit = visit_of_the_day(session, ctx, event, shanghai_date(scan.scanned_at))
        if visit is not None:
            visit.broker_id, visit.referral_id = referral.broker_id, referral.id
            visit.source, visit.guide_method = "channel", "qr"
            scan.visit_id = visit.id
            session.add(visit)
        session.flush()
        before = referral.state
        redecide(session, settings=ctx.settings, row=referral, as_of=ctx.received_at)
        scan.cloud_state, scan.cloud_reason = referral.state, referral.reason_code
        audit_service.record(
            session, action="channel.qr_check_in", actor=f"site:{ctx.site_id}",
            object_type="channel_referral", object_id=str(referral.id),
            detail={"visit_id": scan.visit_id, "nonce": event.nonce,
                    "before": before, "state": referral.state,
                    "reason": referral.reason_code, "edge_state": event.edge_state,
                    "edge_reason": event.edge_reason})
        outcomes.append(Outcome("applied", ref=str(referral.id),
                                detail={"referral_id": referral.id, "state": referral.state}))
    return outcomes


def apply_refusals(ctx: ApplyContext, items: Sequence[tuple[Envelope, QrRefused]]
                   ) -> list[Outcome]:
    """A refused code is a fact worth keeping (who tries forged or stale codes where)."""
    session = ctx.session
    for envelope, event in items:
        scanned_at, _ = ctx.event_time(envelope)
        session.add(QrScan(
            event_id=str(envelope.event_id), site_id=ctx.site_id, project_id=event.project_id,
            referral_id=event.referral_id, broker_id=event.broker_id, key_id=event.key_id,
            nonce=event.nonce, outcome="refused", reason_code=event.code,
            scanned_at=scanned_at, received_at=ctx.received_at))
        audit_service.record(
            session, action="channel.qr_refused", result="failure",
            actor=f"site:{ctx.site_id}", object_type="channel_referral",
            object_id=str(event.referral_id or ""),
            detail={"code": event.code, "broker_id": event.broker_id,
                    "token_sha256": event.token_sha256})
    return [Outcome("applied", ref=str(envelope.event_id)) for envelope, _ in items]


def scans_of(session: Session, referral_id: int) -> list[QrScan]:
    return list(session.exec(select(QrScan).where(QrScan.referral_id == referral_id)
                             .order_by(col(QrScan.scanned_at), col(QrScan.id))).all())


# After the visits of the run (order 10): a check-in finds the visit it confirms.
register(EventType(QR_CHECKED_IN, QrCheckedIn, apply_check_ins, order=15,
                   audit_key="qr_check_ins"))
register(EventType(QR_REFUSED, QrRefused, apply_refusals, order=16, audit_key="qr_refusals"))
