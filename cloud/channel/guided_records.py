"""带看记录: the guided-visit attempts as they synced (scans, replays, hand-picked
guides), and the registrations' provisional answers beside the cloud's.

Both are channel staff's views (channel managers, HQ) of their sites' projects; anyone
else lists nothing, as with risk cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy import and_, false
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.channel import history, rules, scopes
from cloud.channel.models import Broker, QrScan, Referral
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales.models import Customer, Visit
from cloud.sales.service import PHONE_CONTEXT
from cloud.settings import CloudSettings
from shared import attribution as engine
from shared.attribution.summary import differences, summarise
from shared.events import ProvisionalAnswer

log = structlog.get_logger()

GuideResult = Literal["accepted", "forged", "expired", "replayed", "duplicate", "refused"]
FORGED = ("qr_malformed", "qr_unknown_key", "qr_bad_signature")


def result_of(scan: QrScan) -> GuideResult:
    """The console's reading of a scan: accepted; refused at the appliance as forged,
    expired or already used there (replayed); used again at another appliance
    (duplicate, a risk); or refused for another reason (wrong project, number, referral,
    a pick a signed code superseded)."""
    if scan.outcome == "accepted":
        return "accepted"
    if scan.outcome == "replayed":
        return "duplicate"
    if scan.reason_code in FORGED:
        return "forged"
    if scan.reason_code == "qr_expired":
        return "expired"
    if scan.reason_code == "qr_replayed":
        return "replayed"
    return "refused"


def _result_clause(result: GuideResult) -> ColumnElement[bool]:
    refused = col(QrScan.outcome) == "refused"
    reason = col(QrScan.reason_code)
    return {
        "accepted": col(QrScan.outcome) == "accepted",
        "duplicate": col(QrScan.outcome) == "replayed",
        "forged": and_(refused, reason.in_(FORGED)),
        "expired": and_(refused, reason == "qr_expired"),
        "replayed": and_(refused, reason == "qr_replayed"),
        "refused": and_(refused, reason.not_in((*FORGED, "qr_expired", "qr_replayed"))),
    }[result]


def _site_projects(principal: Principal) -> Any:
    return select(Project.id).where(col(Project.site_id).in_(principal.site_ids or []))


def scan_scope(principal: Principal) -> ColumnElement[bool]:
    if not principal.roles & scopes.PROJECT_SCOPED_ROLES:
        return false()
    if principal.site_ids is None:
        return col(QrScan.id).is_not(None)
    return col(QrScan.project_id).in_(_site_projects(principal))


@dataclass(frozen=True)
class ScanFilters:
    project_id: int | None = None
    broker_id: int | None = None
    result: GuideResult | None = None
    method: Literal["qr", "manual"] | None = None


def list_scans(session: Session, *, principal: Principal, filters: ScanFilters,
               before_id: int | None, limit: int) -> list[dict[str, Any]]:
    query = select(QrScan).where(scan_scope(principal))
    if filters.project_id is not None:
        query = query.where(QrScan.project_id == filters.project_id)
    if filters.broker_id is not None:
        query = query.where(QrScan.broker_id == filters.broker_id)
    if filters.result is not None:
        query = query.where(_result_clause(filters.result))
    if filters.method is not None:
        query = query.where(QrScan.method == filters.method)
    if before_id is not None:
        query = query.where(col(QrScan.id) < before_id)
    rows = session.exec(query.order_by(col(QrScan.id).desc()).limit(limit)).all()
    projects = dict(session.exec(select(Project.id, Project.name).where(
        col(Project.id).in_({r.project_id for r in rows}))).all())
    # A refused code's broker is only what the code claimed: named only when it exists.
    brokers = dict(session.exec(select(Broker.id, User.display_name)
                                .join(User, col(User.id) == Broker.user_id)
                                .where(col(Broker.id).in_({r.broker_id for r in rows}))).all())
    masks = dict(session.exec(select(Referral.id, Referral.phone_masked).where(
        col(Referral.id).in_({r.referral_id for r in rows}))).all())
    return [{
        "id": r.id, "scanned_at": r.scanned_at, "received_at": r.received_at,
        "site_id": r.site_id, "project_id": r.project_id,
        "project_name": projects.get(r.project_id), "referral_id": r.referral_id,
        "phone_masked": masks.get(r.referral_id) if r.referral_id else None,
        "broker_id": r.broker_id, "broker_name": brokers.get(r.broker_id),
        "method": r.method, "outcome": r.outcome, "result": result_of(r),
        "reason_code": r.reason_code, "visit_id": r.visit_id,
        "edge_state": r.edge_state, "edge_reason": r.edge_reason,
        "cloud_state": r.cloud_state, "cloud_reason": r.cloud_reason,
        "differs": r.edge_state is not None and r.cloud_state is not None
        and (r.edge_state, r.edge_reason) != (r.cloud_state, r.cloud_reason),
    } for r in rows]


# -- registrations: the appliance's provisional answer beside the cloud's ---------------

def cloud_answer(session: Session, settings: CloudSettings, visit: Visit,
                 customer: Customer) -> ProvisionalAnswer | None:
    """The cloud's answer to the question the appliance answered at registration — who
    owned this customer just before this visit — from everything the cloud knows now."""
    try:
        phone = settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT)
        number = history.number_of(settings, phone)
        events = [e for person in history.gather(session, settings=settings,
                                                 project_id=visit.project_id, number=number)
                  for e in person.events if e.at < visit.occurred_at]
        answer = engine.provisional_answer(
            rules.from_start(rules.history(session, visit.project_id), events), events,
            visit.occurred_at)
    except (engine.AttributionInputError, ValueError) as exc:  # an erased number, say
        log.warning("cloud_answer_failed", visit_id=visit.id, error=str(exc)[:200])
        return None
    return summarise(answer)


def visit_scope(principal: Principal) -> ColumnElement[bool]:
    if not principal.roles & scopes.PROJECT_SCOPED_ROLES:
        return false()
    if principal.site_ids is None:
        return col(Visit.id).is_not(None)
    return col(Visit.site_id).in_(principal.site_ids)


def compare_registrations(session: Session, *, principal: Principal, settings: CloudSettings,
                          project_id: int | None, differs_only: bool,
                          before: datetime | None, limit: int) -> list[dict[str, Any]]:
    """The newest registrations that carried the appliance's answer, each with the
    cloud's and the differences (computed now: the cloud's answer moves as late facts
    arrive). `differs_only` keeps the differing ones of the page read."""
    query = select(Visit, Customer).join(Customer, col(Customer.id) == Visit.customer_id).where(
        col(Visit.edge_attribution).is_not(None), visit_scope(principal))
    if project_id is not None:
        query = query.where(Visit.project_id == project_id)
    if before is not None:
        query = query.where(col(Visit.occurred_at) < before)
    rows = session.exec(query.order_by(col(Visit.occurred_at).desc(), col(Visit.id).desc())
                        .limit(limit)).all()
    projects = dict(session.exec(select(Project.id, Project.name).where(
        col(Project.id).in_({v.project_id for v, _ in rows}))).all())
    out = []
    for visit, customer in rows:
        if visit.edge_attribution is None:  # JSON null written before migration 0025's rule
            continue
        edge = ProvisionalAnswer.model_validate(visit.edge_attribution)
        cloud = cloud_answer(session, settings, visit, customer)
        lines = differences(edge, cloud) if cloud is not None else []
        if differs_only and not lines:
            continue
        out.append({
            "visit_id": visit.id, "occurred_at": visit.occurred_at, "site_id": visit.site_id,
            "project_id": visit.project_id, "project_name": projects.get(visit.project_id),
            "phone_masked": customer.phone_masked, "source": visit.source,
            "broker_id": visit.broker_id, "guide_method": visit.guide_method,
            "edge": edge.model_dump(), "cloud": cloud.model_dump() if cloud else None,
            "differs": bool(lines), "differences": lines,
        })
    return out
