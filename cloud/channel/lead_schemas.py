"""Bodies of the share links, the public share page, the leads and the lead timeline."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloud.channel.schemas import ReferralState
from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

ShareKind = Literal["project", "campaign"]
# The visitor's random id, made by the page and kept in its localStorage (a UUID).
VisitorId = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9-]+$")

LEAD_CONSENT_VERSION = "lead-v1"
LEAD_CONSENT_TEXT = (
    "我同意将姓名和手机号提供给为我分享此页面的经纪人及项目的开发商，用于联系我介绍房源和安排看房；"
    "信息加密保存，我可以随时要求查询、更正或删除。")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ShareIn(_In):
    kind: ShareKind
    project_id: int | None = Field(None, ge=1, le=DB_INT_MAX)
    campaign_id: int | None = Field(None, ge=1, le=DB_INT_MAX)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        wanted = self.project_id if self.kind == "project" else self.campaign_id
        other = self.campaign_id if self.kind == "project" else self.project_id
        if wanted is None or other is not None:
            raise ValueError("分享项目须填 project_id，分享活动须填 campaign_id（只填一个）")
        return self


class ShareStats(BaseModel):
    visitors: int = Field(description="打开过的访客数（按浏览器计）")
    opens: int = Field(description="打开次数")
    views: int = Field(description="页面浏览次数")
    seconds: int = Field(description="浏览总时长（秒）")
    leads: int = Field(description="留资人数")
    last_seen_at: UtcDateTime | None


class ShareOut(BaseModel):
    id: int
    kind: ShareKind
    project_id: int | None
    campaign_id: int | None
    title: str = Field(description="项目名或活动标题")
    token: str
    path: str = Field(description="公开页地址（相对本站），如 /h5/s/…")
    created_at: UtcDateTime
    expires_at: UtcDateTime
    stats: ShareStats


class PublicProject(BaseModel):
    """What anyone may see of a project: never the cooperation terms (the brokers' pay)."""

    id: int
    name: str
    city: str
    district: str
    price_min_yuan: int | None
    price_max_yuan: int | None
    layouts: list[str]


class PublicCampaign(BaseModel):
    """What anyone may see of a campaign: its title, period and announcement (its
    requirements and rewards are the brokers')."""

    id: int
    title: str
    announcement: str
    starts_at: UtcDateTime
    ends_at: UtcDateTime


class ShareCard(BaseModel):
    """分享卡片: what WeChat and other apps show for the link."""

    title: str
    desc: str
    image_url: str = Field(description="卡片图片（PNG，正方形）")


class PublicShareOut(BaseModel):
    kind: ShareKind
    broker_name: str = Field(description="分享的经纪人（显示名）")
    project: PublicProject | None = Field(description="分享项目时")
    campaign: PublicCampaign | None = Field(description="分享活动时")
    projects: list[PublicProject] = Field(description="可留资的项目（活动的全部项目）")
    consent_version: str
    consent_text: str
    card: ShareCard | None = Field(None, description="分享卡片：标题、摘要与图片")


class ShareEventIn(_In):
    visitor_id: str = VisitorId
    kind: Literal["open", "view"]
    page: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
                      description="页面，如 overview、layouts、campaign、form")
    seconds: int = Field(0, ge=0, le=3600, description="在该页面停留的秒数（view）")


class LeadIn(_In):
    visitor_id: str = VisitorId
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=11, max_length=20)
    consent: bool = Field(description="已勾选个人信息授权")
    project_id: int | None = Field(None, ge=1, le=DB_INT_MAX,
                                   description="活动分享时所选项目；项目分享可不填")


class LeadReceived(BaseModel):
    received: bool = True


class LeadOut(BaseModel):
    id: int
    share_id: int
    project_id: int
    project_name: str
    broker_id: int
    broker_name: str | None
    agency_id: int | None
    customer_name: str | None = Field(description="姓名（脱敏）")
    phone_masked: str
    created_at: UtcDateTime
    views: int = Field(description="该访客在分享页的浏览次数")
    seconds: int = Field(description="该访客在分享页的浏览总时长（秒）")
    last_seen_at: UtcDateTime | None
    referral_id: int | None
    referral_state: ReferralState | None
    referral_reason: str | None
    converted_at: UtcDateTime | None


TimelineKind = Literal["share_open", "page_view", "lead_created", "profile_change",
                       "referral", "visit", "follow_up"]


class LeadTimelineItem(BaseModel):
    kind: TimelineKind
    at: UtcDateTime
    local_time: str = Field(description="北京时间，如 2026-11-28 13:05")
    actor: str = Field(description="谁：访客、经纪人、置业顾问、操作人")
    summary: str = Field(description="中文摘要")
    object_id: str


class LeadTimelineOut(BaseModel):
    customer_id: int
    items: list[LeadTimelineItem] = Field(description="新的在前")
    has_more: bool
