"""Leads (线索): a visitor of a share leaves a name and a phone with their consent; the
lead belongs to the share's broker, who may turn it into a referral (转报备) through the
ordinary submission (cloud.channel.referrals: the same rules, limits and decision).

Who sees leads: as referrals — a broker their own, an agency admin their agency's,
channel staff those of their sites' projects. Numbers are always shown masked.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, or_
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel import partners, portal, referrals, scopes
from cloud.channel.errors import LeadConsentRequired, LeadNotFound, LeadProjectInvalid
from cloud.channel.lead_models import Lead, ShareEvent
from cloud.channel.lead_schemas import LEAD_CONSENT_VERSION, LeadIn, LeadOut
from cloud.channel.limits import ReferralLimiter
from cloud.channel.models import Broker, Referral
from cloud.channel.overrides import reason_text
from cloud.channel.shares import Opened
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared.names import mask_name
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import utcnow

LEAD_NAME_CONTEXT = "channel_lead.name"
LEAD_PHONE_CONTEXT = "channel_lead.phone"
LEADS_SHOWN = 200


def create(session: Session, *, settings: CloudSettings, opened: Opened, visitor_key: str,
           data: LeadIn) -> Lead:
    """The lead of this broker, project and number: made once; a second form for the
    same keeps the first (the visitor is told the same either way)."""
    if not data.consent:
        raise LeadConsentRequired()
    project_ids = [p.id for p in opened.projects]
    project_id = data.project_id or (project_ids[0] if len(project_ids) == 1 else None)
    if project_id not in project_ids:
        raise LeadProjectInvalid()
    phone = normalise_phone(data.phone)
    bidx = settings.blind_index.phone(phone)
    broker = opened.broker
    existing = _find(session, broker.id or 0, project_id or 0, bidx)
    if existing is not None:
        return existing
    lead = Lead(share_id=opened.share.id or 0, broker_id=broker.id or 0,
                agency_id=broker.agency_id, project_id=project_id or 0,
                name_enc=settings.cipher.encrypt(data.name, context=LEAD_NAME_CONTEXT),
                phone_enc=settings.cipher.encrypt(phone, context=LEAD_PHONE_CONTEXT),
                phone_bidx=bidx, phone34_bidx=settings.blind_index.phone_masked(phone),
                phone_masked=mask_phone(phone), visitor_key=visitor_key,
                consent_version=LEAD_CONSENT_VERSION, created_at=utcnow())
    try:
        with session.begin_nested():  # two forms of one number at once: one lead
            session.add(lead)
            session.flush()
    except IntegrityError:
        found = _find(session, broker.id or 0, project_id or 0, bidx)
        assert found is not None
        return found
    audit_service.record(session, action="channel.lead_create",
                         actor=f"share:{opened.share.id}", object_type="channel_lead",
                         object_id=str(lead.id),
                         detail={"share_id": opened.share.id, "broker_id": broker.id,
                                 "project_id": lead.project_id, "phone": lead.phone_masked,
                                 "consent_version": LEAD_CONSENT_VERSION})
    return lead


def _find(session: Session, broker_id: int, project_id: int, bidx: str) -> Lead | None:
    return session.exec(select(Lead).where(
        Lead.broker_id == broker_id, Lead.project_id == project_id,
        Lead.phone_bidx == bidx)).first()


def scope(session: Session, principal: Principal) -> ColumnElement[bool]:
    """The leads `principal` may read, as a WHERE clause (as cloud.channel.scopes does
    for referrals)."""
    clauses: list[ColumnElement[bool]] = []
    if principal.roles & scopes.PROJECT_SCOPED_ROLES:
        if principal.site_ids is None:
            return col(Lead.id).is_not(None)
        clauses.append(col(Lead.project_id).in_(
            select(Project.id).where(col(Project.site_id).in_(principal.site_ids))))
    agency_id = scopes.admin_agency(session, principal)
    if agency_id is not None:
        clauses.append(col(Lead.agency_id) == agency_id)
    if principal.roles & {"broker", "agency_admin"}:
        own = scopes.broker_of(session, principal)
        if own is not None:
            clauses.append(col(Lead.broker_id) == own.id)
    return or_(*clauses) if clauses else false()


@dataclass(frozen=True)
class LeadFilters:
    project_id: int | None = None
    broker_id: int | None = None
    agency_id: int | None = None
    converted: bool | None = None


def list_leads(session: Session, *, principal: Principal, filters: LeadFilters,
               before_id: int | None = None, limit: int = 50) -> list[Lead]:
    query = select(Lead).where(scope(session, principal))
    for column, value in ((Lead.project_id, filters.project_id),
                          (Lead.broker_id, filters.broker_id),
                          (Lead.agency_id, filters.agency_id)):
        if value is not None:
            query = query.where(col(column) == value)
    if filters.converted is not None:
        query = query.where(col(Lead.referral_id).is_not(None) if filters.converted
                            else col(Lead.referral_id).is_(None))
    if before_id is not None:
        query = query.where(col(Lead.id) < before_id)
    return list(session.exec(query.order_by(col(Lead.id).desc()).limit(limit)).all())


def mine(session: Session, *, principal: Principal) -> list[Lead]:
    """The caller's own leads (never their agency's), newest first."""
    own = portal.broker(session, principal)
    return list(session.exec(select(Lead).where(Lead.broker_id == own.id)
                             .order_by(col(Lead.id).desc()).limit(LEADS_SHOWN)).all())


def get(session: Session, *, principal: Principal, lead_id: int) -> Lead:
    row = session.exec(select(Lead).where(Lead.id == lead_id,
                                          scope(session, principal))).first()
    if row is None:
        raise LeadNotFound()
    return row


def outs(session: Session, settings: CloudSettings, leads: Sequence[Lead]) -> list[LeadOut]:
    """The leads as shown: masked, with the visitor's views and the referral made."""
    views = _views(session, leads)
    projects = dict(session.exec(select(Project.id, Project.name).where(
        col(Project.id).in_({lead.project_id for lead in leads}))).all()) if leads else {}
    brokers = {b.id: b for b in session.exec(select(Broker).where(
        col(Broker.id).in_({lead.broker_id for lead in leads}))).all()} if leads else {}
    names = partners.user_names(session, {b.user_id for b in brokers.values()})
    made = {r.id: r for r in session.exec(select(Referral).where(col(Referral.id).in_(
        {lead.referral_id for lead in leads if lead.referral_id is not None}))).all()}
    answer = []
    for lead in leads:
        count, seconds, last = views.get(lead.id or 0, (0, 0, None))
        broker = brokers.get(lead.broker_id)
        referral = made.get(lead.referral_id) if lead.referral_id is not None else None
        answer.append(LeadOut(
            id=lead.id or 0, share_id=lead.share_id, project_id=lead.project_id,
            project_name=projects.get(lead.project_id, ""), broker_id=lead.broker_id,
            broker_name=names.get(broker.user_id) if broker else None,
            agency_id=lead.agency_id,
            customer_name=mask_name(settings.cipher.decrypt(lead.name_enc,
                                                            context=LEAD_NAME_CONTEXT)),
            phone_masked=lead.phone_masked, created_at=lead.created_at, views=count,
            seconds=seconds, last_seen_at=last, referral_id=lead.referral_id,
            referral_state=referral.state if referral else None,
            referral_reason=reason_text(referral.reason_code) if referral else None,
            converted_at=lead.converted_at))
    return answer


def _views(session: Session, leads: Sequence[Lead]
           ) -> dict[int, tuple[int, int, datetime | None]]:
    """Per lead: page views, seconds and the last event of its visitor on its share."""
    if not leads:
        return {}
    pairs = or_(*[(col(ShareEvent.share_id) == lead.share_id)
                  & (col(ShareEvent.visitor_key) == lead.visitor_key) for lead in leads])
    rows = session.execute(sql_select(
        col(ShareEvent.share_id), col(ShareEvent.visitor_key),
        func.count().filter(col(ShareEvent.kind) == "view"),
        func.coalesce(func.sum(ShareEvent.seconds), 0), func.max(ShareEvent.occurred_at),
    ).where(pairs).group_by(col(ShareEvent.share_id), col(ShareEvent.visitor_key))).all()
    by_visitor: dict[tuple[int, str], tuple[int, int, datetime | None]] = defaultdict(
        lambda: (0, 0, None))
    for share_id, key, count, seconds, last in rows:
        by_visitor[(share_id, key)] = (count, int(seconds), last)
    return {lead.id or 0: by_visitor[(lead.share_id, lead.visitor_key)] for lead in leads}


def convert(session: Session, *, principal: Principal, settings: CloudSettings,
            limiter: ReferralLimiter, lead_id: int) -> referrals.Submitted:
    """转报备: the ordinary referral submission with the lead's name and number. Its key
    is the lead's, so a second tap (or a retry after a lost answer) returns the first
    decision; a refusal is the engine's recorded outcome, as for any referral."""
    own = portal.broker(session, principal)
    lead = session.exec(select(Lead).where(Lead.id == lead_id,
                                           Lead.broker_id == own.id)).first()
    if lead is None:
        raise LeadNotFound()
    limiter.admit(own.id or 0)
    done = referrals.submit(
        session, principal=principal, settings=settings, broker=own,
        data=referrals.Submission(
            project_id=lead.project_id,
            phone=settings.cipher.decrypt(lead.phone_enc, context=LEAD_PHONE_CONTEXT),
            name=settings.cipher.decrypt(lead.name_enc, context=LEAD_NAME_CONTEXT),
            customer_group="individual", idempotency_key=f"lead-{lead.id}"))
    if lead.referral_id is None:
        lead.referral_id = done.referral.id
        lead.converted_at = utcnow()
        session.add(lead)
        session.flush()
    return done



def erase_leads(session: Session, settings: CloudSettings, *, phone_bidx: str,
                project_ids: Collection[int], erased_mask: str, erased_prefix: str) -> int:
    """A deletion request: the subject's leads lose name and number (each index a unique
    tombstone, as an erased customer's). The lead stays — the broker's record that a
    visitor of their link left a number — with nobody behind it; so do the views, which
    name no one (a hash of a random id)."""
    found = session.exec(select(Lead).where(Lead.phone_bidx == phone_bidx,
                                            col(Lead.project_id).in_(project_ids))).all()
    for lead in found:
        lead.name_enc = settings.cipher.encrypt("", context=LEAD_NAME_CONTEXT)
        lead.phone_enc = settings.cipher.encrypt("", context=LEAD_PHONE_CONTEXT)
        lead.phone_bidx = lead.phone34_bidx = f"{erased_prefix}{uuid.uuid4().hex}"
        lead.phone_masked = erased_mask
        session.add(lead)
    return len(found)
