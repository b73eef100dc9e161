"""Share links (分享): a broker shares a project profile or a campaign; anyone with the
link opens a public page of it, whose opens and page views are counted per visitor.

A share is reused while it has at least half its life left, so sharing the same project
twice in a week gives one link and one set of figures. Opening the page reads nothing
but the share and its target; the counts come from `record_event`, called by the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project, Site
from cloud.channel import campaigns, partners, portal, share_tokens
from cloud.channel.errors import (
    CampaignNotFound,
    ProjectNotFound,
    ShareLinkInvalid,
    ShareTargetEnded,
)
from cloud.channel.lead_models import Lead, Share, ShareEvent
from cloud.channel.lead_schemas import (
    LEAD_CONSENT_TEXT,
    LEAD_CONSENT_VERSION,
    PublicCampaign,
    PublicProject,
    PublicShareOut,
    ShareEventIn,
    ShareOut,
    ShareStats,
)
from cloud.channel.listing_models import Campaign, ProjectProfile
from cloud.channel.models import Broker
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, utcnow

H5_SHARE_PATH = "/h5/s/"
SHARES_SHOWN = 100


@dataclass(frozen=True)
class Opened:
    share: Share
    broker: Broker
    projects: list[Project]  # the project shared, or the campaign's (of active sites)
    campaign: Campaign | None


def _live_project(session: Session, project_id: int) -> Project | None:
    found = session.exec(select(Project).join(Site, col(Site.id) == col(Project.site_id))
                         .where(Project.id == project_id,
                                col(Site.is_active).is_(True))).first()
    return found


def _live_campaign(session: Session, campaign_id: int, now: datetime) -> Campaign | None:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "published" or as_utc(campaign.ends_at) <= now:
        return None
    return campaign


def create(session: Session, *, settings: CloudSettings, principal: Principal, kind: str,
           target_id: int) -> tuple[Share, bool]:
    """The caller's link to this project or campaign: the current one when it still has
    half its life, else a new one (audited `channel.share_create`)."""
    broker = portal.active_broker(session, principal)
    now = utcnow()
    if kind == "project" and _live_project(session, target_id) is None:
        raise ProjectNotFound()
    if kind == "campaign" and _live_campaign(session, target_id, now) is None:
        raise CampaignNotFound("活动不存在、未发布或已结束")
    ttl = timedelta(days=settings.share_ttl_days)
    target = Share.project_id if kind == "project" else Share.campaign_id
    current = session.exec(select(Share).where(
        Share.broker_id == broker.id, Share.kind == kind, col(target) == target_id,
        col(Share.expires_at) > now + ttl / 2).order_by(col(Share.id).desc())).first()
    if current is not None:
        return current, False
    share = Share(broker_id=broker.id or 0, kind=kind, created_at=now,
                  expires_at=(now + ttl).replace(microsecond=0),
                  project_id=target_id if kind == "project" else None,
                  campaign_id=target_id if kind == "campaign" else None)
    session.add(share)
    session.flush()
    audit_service.record(session, action="channel.share_create", principal=principal,
                         object_type="channel_share", object_id=str(share.id),
                         detail={"kind": kind, "target_id": target_id,
                                 "expires_at": share.expires_at.isoformat()})
    return share, True


def token(settings: CloudSettings, share: Share) -> str:
    return share_tokens.sign(settings, share_tokens.ShareClaims(
        share.id or 0, share.broker_id, share.kind, _target(share), as_utc(share.expires_at)))


def _target(share: Share) -> int:
    return (share.project_id if share.kind == "project" else share.campaign_id) or 0


def stats(session: Session, share_ids: Sequence[int]) -> dict[int, ShareStats]:
    """Visitors, opens, views, seconds, leads and the last event of each share."""
    found = {i: ShareStats(visitors=0, opens=0, views=0, seconds=0, leads=0,
                           last_seen_at=None) for i in share_ids}
    if not share_ids:
        return found
    rows = session.execute(sql_select(
        col(ShareEvent.share_id), func.count(func.distinct(ShareEvent.visitor_key)),
        func.count().filter(col(ShareEvent.kind) == "open"),
        func.count().filter(col(ShareEvent.kind) == "view"),
        func.coalesce(func.sum(ShareEvent.seconds), 0), func.max(ShareEvent.occurred_at),
    ).where(col(ShareEvent.share_id).in_(share_ids)).group_by(col(ShareEvent.share_id))).all()
    for share_id, visitors, opens, views, seconds, last in rows:
        found[share_id] = ShareStats(visitors=visitors, opens=opens, views=views,
                                     seconds=int(seconds), leads=0, last_seen_at=last)
    for share_id, leads in session.exec(
            select(Lead.share_id, func.count()).where(col(Lead.share_id).in_(share_ids))
            .group_by(col(Lead.share_id))).all():
        found[share_id].leads = leads
    return found


def mine(session: Session, *, settings: CloudSettings, principal: Principal
         ) -> list[ShareOut]:
    """The caller's links, newest first, with their figures."""
    broker = portal.broker(session, principal)
    shares = list(session.exec(select(Share).where(Share.broker_id == broker.id)
                               .order_by(col(Share.id).desc()).limit(SHARES_SHOWN)).all())
    return outs(session, settings, shares)


def outs(session: Session, settings: CloudSettings, shares: Sequence[Share]
         ) -> list[ShareOut]:
    figures = stats(session, [s.id or 0 for s in shares])
    titles = _titles(session, shares)
    answer = []
    for share in shares:
        text = token(settings, share)
        answer.append(ShareOut(
            id=share.id or 0, kind=share.kind,
            project_id=share.project_id, campaign_id=share.campaign_id,
            title=titles.get((share.kind, _target(share)), ""), token=text,
            path=f"{H5_SHARE_PATH}{text}", created_at=share.created_at,
            expires_at=share.expires_at, stats=figures[share.id or 0]))
    return answer


def _titles(session: Session, shares: Sequence[Share]) -> dict[tuple[str, int], str]:
    projects = {s.project_id for s in shares if s.project_id is not None}
    wanted = {s.campaign_id for s in shares if s.campaign_id is not None}
    found: dict[tuple[str, int], str] = {}
    if projects:
        for pid, name in session.exec(select(Project.id, Project.name)
                                      .where(col(Project.id).in_(projects))).all():
            found[("project", pid or 0)] = name
    if wanted:
        for cid, title in session.exec(select(Campaign.id, Campaign.title)
                                       .where(col(Campaign.id).in_(wanted))).all():
            found[("campaign", cid or 0)] = title
    return found


def open_share(session: Session, *, settings: CloudSettings, token_text: str) -> Opened:
    """The share a genuine, unexpired token names, with what it shows; its broker must
    still be active and its target still live (else 410)."""
    now = utcnow()
    claims = share_tokens.verify(settings, token_text, now)
    share = session.get(Share, claims.share_id)
    if share is None or (share.broker_id, share.kind, _target(share)) != (
            claims.broker_id, claims.kind, claims.target_id):
        raise ShareLinkInvalid()  # signed by us, but not for this row: treat as forged
    broker = session.get(Broker, share.broker_id)
    if broker is None or not partners.can_refer(session, broker):
        raise ShareTargetEnded("该经纪人暂不能接待，请联系其他经纪人")
    if share.kind == "project":
        project = _live_project(session, share.project_id or 0)
        if project is None:
            raise ShareTargetEnded()
        return Opened(share, broker, [project], None)
    campaign = _live_campaign(session, share.campaign_id or 0, now)
    if campaign is None:
        raise ShareTargetEnded()
    ids = campaigns.project_ids(session, [campaign.id or 0]).get(campaign.id or 0, [])
    projects = [p for p in (_live_project(session, i) for i in ids) if p is not None]
    if not projects:
        raise ShareTargetEnded()
    return Opened(share, broker, projects, campaign)


def public(session: Session, opened: Opened) -> PublicShareOut:
    profiles = {p.project_id: p for p in session.exec(select(ProjectProfile).where(
        col(ProjectProfile.project_id).in_([p.id for p in opened.projects]))).all()}
    shown = [_public_project(p, profiles.get(p.id or 0)) for p in opened.projects]
    names = partners.user_names(session, {opened.broker.user_id})
    c = opened.campaign
    return PublicShareOut(
        kind=opened.share.kind,
        broker_name=names.get(opened.broker.user_id) or "经纪人",
        project=shown[0] if c is None else None,
        campaign=PublicCampaign(id=c.id or 0, title=c.title, announcement=c.announcement,
                                starts_at=c.starts_at, ends_at=c.ends_at) if c else None,
        projects=shown, consent_version=LEAD_CONSENT_VERSION, consent_text=LEAD_CONSENT_TEXT)


def _public_project(p: Project, profile: ProjectProfile | None) -> PublicProject:
    return PublicProject(id=p.id or 0, name=p.name, city=p.city,
                         district=profile.district if profile else "",
                         price_min_yuan=profile.price_min_yuan if profile else None,
                         price_max_yuan=profile.price_max_yuan if profile else None,
                         layouts=profile.layouts if profile else [])


def record_event(session: Session, *, share: Share, visitor_key: str,
                 data: ShareEventIn) -> None:
    """One open or page view. Rate limits were checked by the route (per source, per
    visitor); nothing here is audited (no principal, no personal data)."""
    session.add(ShareEvent(share_id=share.id or 0, visitor_key=visitor_key, kind=data.kind,
                           page=data.page, seconds=data.seconds if data.kind == "view" else 0,
                           occurred_at=utcnow()))
    session.flush()
