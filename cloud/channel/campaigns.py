"""Channel campaigns (渠道活动): requirements, rewards, a period and an announcement on
one or more projects. Channel staff manage the campaigns of their sites' projects: they
see a campaign that runs on any project of theirs and change only one whose projects are
all theirs. Lifecycle: draft → published → ended; brokers see published ones that have
not ended (cloud.channel.portal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel import scopes
from cloud.channel.errors import (
    CampaignInvalid,
    CampaignNotFound,
    CampaignOutsideScope,
    StatusChangeNotAllowed,
)
from cloud.channel.listing_models import Campaign, CampaignProject
from cloud.channel.listing_schemas import CampaignIn, CampaignOut, CampaignUpdate
from cloud.identity.deps import Principal
from shared.timeutil import utcnow

MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"published"}),
    "published": frozenset({"ended"}),
    "ended": frozenset(),
}
_TEXT_FIELDS = ("title", "requirements", "rewards", "announcement", "starts_at", "ends_at")



def _visible(principal: Principal) -> ColumnElement[bool]:
    """A campaign with at least one project of the caller's sites."""
    return exists(select(CampaignProject.campaign_id).join(
        Project, col(Project.id) == col(CampaignProject.project_id)).where(
        col(CampaignProject.campaign_id) == col(Campaign.id), scopes.in_sites(principal)))


def project_ids(session: Session, campaign_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if campaign_ids:
        rows = session.exec(select(CampaignProject).where(
            col(CampaignProject.campaign_id).in_(campaign_ids))
            .order_by(col(CampaignProject.project_id))).all()
        for row in rows:
            found[row.campaign_id].append(row.project_id)
    return found


def out(campaign: Campaign, projects: list[int]) -> CampaignOut:
    return CampaignOut.model_validate({**campaign.model_dump(), "project_ids": projects})


def outs(session: Session, campaigns: Sequence[Campaign]) -> list[CampaignOut]:
    links = project_ids(session, [c.id for c in campaigns if c.id is not None])
    return [out(c, links.get(c.id or 0, [])) for c in campaigns]


def list_campaigns(session: Session, *, principal: Principal, project_id: int | None,
                   status: str | None) -> list[Campaign]:
    query = select(Campaign).where(_visible(principal))
    if project_id is not None:
        query = query.where(exists(select(CampaignProject.campaign_id).where(
            col(CampaignProject.campaign_id) == col(Campaign.id),
            CampaignProject.project_id == project_id)))
    if status is not None:
        query = query.where(Campaign.status == status)
    return list(session.exec(query.order_by(col(Campaign.id).desc()).limit(200)).all())


def get(session: Session, *, principal: Principal, campaign_id: int) -> Campaign:
    row = session.exec(select(Campaign).where(
        Campaign.id == campaign_id, _visible(principal))).first()
    if row is None:
        raise CampaignNotFound()
    return row



def _check_period(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise CampaignInvalid("活动结束时间必须晚于开始时间")


def create(session: Session, *, principal: Principal, data: CampaignIn) -> CampaignOut:
    projects = scopes.projects_in_scope(session, principal, data.project_ids)
    _check_period(data.starts_at, data.ends_at)
    campaign = Campaign(**data.model_dump(exclude={"project_ids"}),
                        created_by=principal.user_id)
    session.add(campaign)
    session.flush()
    assert campaign.id is not None
    session.add_all(CampaignProject(campaign_id=campaign.id, project_id=p) for p in projects)
    session.flush()
    audit_service.record(session, action="channel.campaign_create", principal=principal,
                         object_type="channel_campaign", object_id=str(campaign.id),
                         detail={"title": campaign.title, "project_ids": projects})
    return out(campaign, projects)


def update(session: Session, *, principal: Principal, campaign_id: int,
           data: CampaignUpdate) -> CampaignOut:
    campaign = get(session, principal=principal, campaign_id=campaign_id)
    current = project_ids(session, [campaign_id]).get(campaign_id, [])
    if not scopes.all_in_scope(session, principal, current):
        raise CampaignOutsideScope()
    if campaign.status == "ended":
        raise StatusChangeNotAllowed("已结束的活动不能再修改")
    changes = data.model_dump(exclude_unset=True)
    for field in _TEXT_FIELDS:
        if field in changes and changes[field] is not None:
            setattr(campaign, field, changes[field])
    _check_period(campaign.starts_at, campaign.ends_at)
    if data.project_ids is not None:
        wanted = scopes.projects_in_scope(session, principal, data.project_ids)
        for link in session.exec(select(CampaignProject).where(
                CampaignProject.campaign_id == campaign_id)).all():
            session.delete(link)
        session.flush()
        session.add_all(CampaignProject(campaign_id=campaign_id, project_id=p) for p in wanted)
        current = wanted
    now = utcnow()
    moved = data.status is not None and data.status != campaign.status
    if data.status is not None and moved:
        if data.status not in MOVES[campaign.status]:
            raise StatusChangeNotAllowed()
        if data.status == "published":
            if campaign.ends_at <= now:
                raise CampaignInvalid("活动已过结束时间，不能发布")
            campaign.published_at = now
        campaign.status = data.status
    campaign.updated_at = now
    session.flush()
    detail = {"title": campaign.title, "status": campaign.status,
              "changed": sorted(changes), "project_ids": current}
    target = str(campaign_id)
    if moved and campaign.status == "published":
        audit_service.record(session, action="channel.campaign_publish", principal=principal,
                             object_type="channel_campaign", object_id=target, detail=detail)
    elif moved:
        audit_service.record(session, action="channel.campaign_end", principal=principal,
                             object_type="channel_campaign", object_id=target, detail=detail)
    else:
        audit_service.record(session, action="channel.campaign_update", principal=principal,
                             object_type="channel_campaign", object_id=target, detail=detail)
    return out(campaign, current)


