"""The broker's own view (the H5): their status, the projects they may refer customers to
with the rules in force and the latest campaigns, and their referred customers with the
visits that followed. Today any active broker may refer to any project of an active
site, so that is what they see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from cloud.catalog.models import Project, Site
from cloud.channel import campaigns, partners, rules, scopes
from cloud.channel.errors import BrokerInactive, BrokerNotFound
from cloud.channel.history import REFERRAL_NAME_CONTEXT
from cloud.channel.listing_models import Campaign, CampaignProject, ProjectProfile
from cloud.channel.listing_schemas import (
    BrokerCustomerOut,
    BrokerMeOut,
    BrokerProjectOut,
    CampaignOut,
    RuleSummary,
)
from cloud.channel.models import Agency, Broker, Referral, RuleVersion
from cloud.identity.deps import Principal
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from shared.attribution import REASON_TEXT, ReasonCode, RuleSet
from shared.attribution.rules import DurationWindow
from shared.names import mask_name
from shared.timeutil import utcnow

LATEST_CAMPAIGNS = 3
CUSTOMERS_SHOWN = 200
# Only a referral that stood (or stood until its window ran out) shows the visits that
# followed: an invalid one names someone else's customer.
VISIBLE_VISITS_STATES = ("pending", "confirmed", "expired")


@dataclass(frozen=True)
class ProjectFilter:
    district: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    layout: str | None = None


def broker(session: Session, principal: Principal) -> Broker:
    found = scopes.broker_of(session, principal)
    if found is None:
        raise BrokerNotFound("尚未登记为经纪人，请先凭邀请码加入")
    return found


def me(session: Session, principal: Principal) -> BrokerMeOut:
    row = broker(session, principal)
    agency = session.get(Agency, row.agency_id) if row.agency_id is not None else None
    return BrokerMeOut(id=row.id or 0, kind=row.kind,
                       status=row.status,
                       agency_name=agency.name if agency else None,
                       agency_status=agency.status if agency else None,
                       phone_masked=row.phone_masked,
                       can_refer=partners.can_refer(session, row))


def active_broker(session: Session, principal: Principal) -> Broker:
    row = broker(session, principal)
    if not partners.can_refer(session, row):
        raise BrokerInactive()
    return row


def projects(session: Session, *, principal: Principal, filters: ProjectFilter
             ) -> list[BrokerProjectOut]:
    active_broker(session, principal)
    query = (select(Project, ProjectProfile)
             .join(Site, col(Site.id) == col(Project.site_id))
             .join(ProjectProfile, col(ProjectProfile.project_id) == col(Project.id),
                   isouter=True)
             .where(col(Site.is_active).is_(True)))
    if filters.district:
        query = query.where(ProjectProfile.district == filters.district)
    # A price band overlapping the one asked for; a project without prices does not.
    if filters.price_min is not None:
        query = query.where(col(ProjectProfile.price_max_yuan) >= filters.price_min)
    if filters.price_max is not None:
        query = query.where(col(ProjectProfile.price_min_yuan) <= filters.price_max)
    rows = [(p, prof) for p, prof in session.exec(query.order_by(col(Project.id))).all()
            if not filters.layout or (prof is not None and filters.layout in prof.layouts)]
    ids = [p.id or 0 for p, _ in rows]
    in_force = _rules_in_force(session, ids, utcnow())
    latest = published_campaigns(session, ids, per_project=LATEST_CAMPAIGNS)
    return [BrokerProjectOut(
        id=p.id or 0, name=p.name, city=p.city,
        district=prof.district if prof else "",
        price_min_yuan=prof.price_min_yuan if prof else None,
        price_max_yuan=prof.price_max_yuan if prof else None,
        layouts=prof.layouts if prof else [], cooperation=prof.cooperation if prof else "",
        rules=summary(in_force.get(p.id or 0) or rules.defaults(p.id or 0)),
        campaigns=latest.get(p.id or 0, [])) for p, prof in rows]


def _rules_in_force(session: Session, project_ids: Sequence[int], now: datetime
                    ) -> dict[int, RuleSet]:
    """Each project's version in force now (one query for all of them)."""
    found: dict[int, RuleSet] = {}
    if not project_ids:
        return found
    stored = session.exec(select(RuleVersion).where(
        col(RuleVersion.project_id).in_(project_ids), RuleVersion.effective_from <= now)
        .order_by(col(RuleVersion.project_id), col(RuleVersion.version))).all()
    for row in stored:
        found[row.project_id] = RuleSet.model_validate(
            {**row.rules, "version": row.version, "effective_from": row.effective_from,
             "project_id": str(row.project_id)})
    return found


def summary(rule: RuleSet) -> RuleSummary:
    window = rule.referral_protection
    if isinstance(window, DurationWindow):
        hours: int | None = int(window.length.total_seconds() // 3600)
        text = f"报备后 {hours} 小时内到访"
    else:
        hours = None
        day = "报备当天" if window.days == 0 else f"报备后第 {window.days} 天"
        text = f"{day} {window.until.strftime('%H:%M')} 前到访"
    return RuleSummary(
        version=rule.version, attribution_mode=rule.attribution_mode,
        referral_protection_hours=hours, referral_protection_text=text,
        visit_protection_days=rule.visit_protection.days,
        lead_time_minutes=int(rule.lead_time.total_seconds() // 60),
        phone_policy=rule.phone_policy, name_policy=rule.name_policy)


def published_campaigns(session: Session, project_ids: Sequence[int], *,
                        per_project: int | None = None) -> dict[int, list[CampaignOut]]:
    """The published, not yet ended campaigns of these projects, newest first."""
    by_project: dict[int, list[CampaignOut]] = defaultdict(list)
    if not project_ids:
        return by_project
    rows = session.exec(
        select(Campaign, CampaignProject.project_id)
        .join(CampaignProject, col(CampaignProject.campaign_id) == col(Campaign.id))
        .where(col(CampaignProject.project_id).in_(project_ids),
               Campaign.status == "published", Campaign.ends_at > utcnow())
        .order_by(col(Campaign.published_at).desc(), col(Campaign.id).desc())).all()
    links = campaigns.project_ids(session, sorted({c.id or 0 for c, _ in rows}))
    for campaign, project_id in rows:
        shown = by_project[project_id]
        if per_project is None or len(shown) < per_project:
            shown.append(campaigns.out(campaign, links.get(campaign.id or 0, [])))
    return by_project


def broker_campaigns(session: Session, *, principal: Principal) -> list[CampaignOut]:
    active_broker(session, principal)
    ids = list(session.exec(select(Project.id).join(Site, col(Site.id) == col(Project.site_id))
                            .where(col(Site.is_active).is_(True))).all())
    seen: dict[int, CampaignOut] = {}
    for shown in published_campaigns(session, [i for i in ids if i is not None]).values():
        for campaign in shown:
            seen.setdefault(campaign.id, campaign)
    return sorted(seen.values(), key=lambda c: (c.published_at or c.created_at, c.id),
                  reverse=True)


def customers(session: Session, *, principal: Principal, settings: CloudSettings,
              state: str | None) -> list[BrokerCustomerOut]:
    """The caller's own referrals only (never their agency's), newest first."""
    own = broker(session, principal)
    query = select(Referral, Project.name).join(
        Project, col(Project.id) == col(Referral.project_id)).where(
        Referral.broker_id == own.id)
    if state is not None:
        query = query.where(Referral.state == state)
    rows = session.exec(query.order_by(col(Referral.id).desc()).limit(CUSTOMERS_SHOWN)).all()
    visits = _visits(session, [r for r, _ in rows])
    return [BrokerCustomerOut(
        id=r.id or 0, project_id=r.project_id, project_name=name,
        customer_name=mask_name(settings.cipher.decrypt(r.name_enc,
                                                        context=REFERRAL_NAME_CONTEXT)),
        phone_masked=r.phone_masked, customer_group=r.customer_group,
        state=r.state,
        reason_code=r.reason_code, reason=REASON_TEXT[ReasonCode(r.reason_code)],
        created_at=r.created_at, protection_until=r.protection_until,
        visits=visits.get(r.id or 0, [])) for r, name in rows]


def _visits(session: Session, referrals: Sequence[Referral]) -> dict[int, list[datetime]]:
    """Visit times of the customer each full-number referral names, from the referral on
    (until its window ended, for an expired one). A masked number names nobody surely."""
    wanted = [r for r in referrals
              if r.phone_bidx is not None and r.state in VISIBLE_VISITS_STATES]
    if not wanted:
        return {}
    pairs = or_(*[(col(Customer.project_id) == r.project_id)
                  & (col(Customer.phone_bidx) == r.phone_bidx) for r in wanted])
    found = session.exec(select(Customer.project_id, Customer.phone_bidx, Visit.occurred_at)
                         .join(Visit, col(Visit.customer_id) == col(Customer.id))
                         .where(pairs).order_by(col(Visit.occurred_at))).all()
    times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for project_id, bidx, at in found:
        times[(project_id, bidx)].append(at)
    answer: dict[int, list[datetime]] = {}
    for r in wanted:
        end = r.protection_until if r.state == "expired" else None
        answer[r.id or 0] = [t for t in times.get((r.project_id, r.phone_bidx or ""), [])
                             if t >= r.created_at and (end is None or t <= end)]
    return answer
