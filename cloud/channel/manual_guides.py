"""带看 without a code (手工指定带看, ADR 0030): the appliance's `channel.guide_picked`.

The receptionist named the broker who brought a visitor by hand, among the live
referrals the appliance held. The cloud checks the referral is the broker's at this
project, records the pick beside the scans (`channel_qr_scan`, method `manual`), marks
the sales visit guided — unless a signed code already did: the stronger evidence stays —
and decides the referral again. The engine reads a hand-picked guide as a guided visit
(渠道带访) that completes no masked number. Being weaker evidence than a signed code, it
also opens a risk case (check `manual_guide`, review by default): a reviewer confirms a
wrong pick (the attribution may be voided) or dismisses the case. The appliance's
provisional answer is kept beside the cloud's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel import risk_cases, risk_findings, risk_policy
from cloud.channel.models import QrScan, Referral
from cloud.channel.redecide import redecide
from cloud.channel.sync_events import confirmed_here, visit_of_the_day
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.events import GUIDE_PICKED, GuidePicked
from shared.phone import mask_phone
from shared.timeutil import iso, shanghai_date

CHECK = "manual_guide"


def _open_case(session: Session, *, referral: Referral, scan: QrScan, event: GuidePicked
               ) -> int | None:
    setting = risk_policy.policy(session, referral.project_id).setting(CHECK)
    if setting.action == "off":
        return None
    timeline: list[dict[str, Any]] = [
        {"at": iso(referral.created_at), "kind": "referral",
         "text": f"经纪人 #{referral.broker_id} 报备（{referral.phone_masked}）"},
        {"at": iso(scan.scanned_at), "kind": "manual_guide",
         "text": f"前台手工指定带看经纪人（{event.tablet}，客户 {mask_phone(event.phone)}）",
         "visit_id": scan.visit_id, "site_id": scan.site_id},
    ]
    finding = risk_findings.Finding(
        "前台手工指定带看经纪人（未扫码），请核实确为该经纪人带看", timeline,
        {"edge_state": event.edge_state, "cloud_state": referral.state})
    case = risk_cases.open_case(session, referral=referral, code=CHECK,
                                severity=setting.action, finding=finding)
    return case.id if case is not None else None


def apply_picks(ctx: ApplyContext, items: Sequence[tuple[Envelope, GuidePicked]]
                ) -> list[Outcome]:
    session = ctx.session
    outcomes = []
    for envelope, event in items:
        scanned_at, _ = ctx.event_time(envelope)
        scan = QrScan(
            event_id=str(envelope.event_id), site_id=ctx.site_id, project_id=event.project_id,
            referral_id=event.referral_id, broker_id=event.broker_id, method="manual",
            outcome="accepted", reason_code="ok", scanned_at=scanned_at,
            received_at=ctx.received_at, edge_state=event.edge_state,
            edge_reason=event.edge_reason)
        session.add(scan)
        referral = session.get(Referral, event.referral_id)
        if referral is None or (referral.project_id, referral.broker_id) != (
                event.project_id, event.broker_id):
            scan.outcome, scan.reason_code = "refused", "guide_referral_unknown"
            outcomes.append(Outcome("rejected", "guide_referral_unknown"))
            continue
        visit = visit_of_the_day(session, ctx, event, shanghai_date(scanned_at))
        if visit is not None and visit.broker_id is not None and visit.guide_method != "manual":
            # A signed code already guided this visit: it stays the evidence.
            scan.outcome, scan.reason_code, scan.visit_id = "refused", "guide_superseded", visit.id
            outcomes.append(Outcome("applied", ref=str(referral.id),
                                    detail={"referral_id": referral.id, "superseded": True}))
            continue
        confirmed_here(session, scan)
        if visit is not None:
            visit.broker_id, visit.referral_id = referral.broker_id, referral.id
            visit.source, visit.guide_method = "channel", "manual"
            scan.visit_id = visit.id
            session.add(visit)
        session.flush()
        before = referral.state
        redecide(session, settings=ctx.settings, row=referral, as_of=ctx.received_at)
        scan.cloud_state, scan.cloud_reason = referral.state, referral.reason_code
        case_id = _open_case(session, referral=referral, scan=scan, event=event)
        audit_service.record(
            session, action="channel.guide_picked", actor=f"site:{ctx.site_id}",
            object_type="channel_referral", object_id=str(referral.id),
            detail={"visit_id": scan.visit_id, "tablet": event.tablet, "before": before,
                    "state": referral.state, "reason": referral.reason_code,
                    "edge_state": event.edge_state, "edge_reason": event.edge_reason,
                    "risk_case_id": case_id})
        outcomes.append(Outcome("applied", ref=str(referral.id),
                                detail={"referral_id": referral.id, "state": referral.state,
                                        "risk_case_id": case_id}))
    return outcomes


# After the visits of the run (order 10) and the check-ins (15): a pick finds its visit,
# and a code scanned for the same visit in the same run wins.
register(EventType(GUIDE_PICKED, GuidePicked, apply_picks, order=17, audit_key="guide_picks"))
