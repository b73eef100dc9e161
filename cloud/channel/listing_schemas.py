"""Bodies of the broker H5's routes and of the project profiles and campaigns."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cloud.channel.schemas import CustomerGroup, ReferralState
from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

CampaignStatus = Literal["draft", "published", "ended"]
Yuan = Annotated[int | None, Field(ge=0, le=DB_INT_MAX, description="元（总价）")]
Layout = Annotated[str, Field(min_length=1, max_length=20)]
Text = Annotated[str, Field(max_length=2000)]
ProjectIds = Annotated[list[Annotated[int, Field(ge=1, le=DB_INT_MAX)]],
                       Field(min_length=1, max_length=50)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProfileIn(_In):
    district: str = Field("", max_length=40, description="区域，如 浦东新区")
    price_min_yuan: Yuan = None
    price_max_yuan: Yuan = None
    layouts: list[Layout] = Field(default_factory=list, max_length=12,
                                  description="户型，如 三室两厅")
    cooperation: Text = Field("", description="合作条款（佣金、结佣方式等说明）")

    @model_validator(mode="after")
    def _band(self) -> Self:
        low, high = self.price_min_yuan, self.price_max_yuan
        if low is not None and high is not None and high < low:
            raise ValueError("最高价不能低于最低价")
        if len(set(self.layouts)) != len(self.layouts):
            raise ValueError("户型不能重复")
        return self


class ProfileOut(BaseModel):
    project_id: int
    project_name: str
    district: str
    price_min_yuan: int | None
    price_max_yuan: int | None
    layouts: list[str]
    cooperation: str
    updated_at: UtcDateTime | None = Field(description="未编辑过时为空")


class CampaignIn(_In):
    title: str = Field(min_length=1, max_length=100)
    requirements: Text = Field("", description="活动要求")
    rewards: Text = Field("", description="活动奖励")
    announcement: Text = Field("", description="活动公告")
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    project_ids: ProjectIds


class CampaignUpdate(_In):
    title: str | None = Field(None, min_length=1, max_length=100)
    requirements: Text | None = None
    rewards: Text | None = None
    announcement: Text | None = None
    starts_at: UtcDateTime | None = None
    ends_at: UtcDateTime | None = None
    project_ids: ProjectIds | None = None
    status: Literal["published", "ended"] | None = Field(
        None, description="published 发布 / ended 结束")


class CampaignOut(BaseModel):
    id: int
    title: str
    requirements: str
    rewards: str
    announcement: str
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    status: CampaignStatus = Field(description="draft 草稿 / published 已发布 / ended 已结束")
    project_ids: list[int]
    published_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class RuleSummary(BaseModel):
    """What a broker needs of the rules in force: the mode, the windows, the number."""

    version: int
    attribution_mode: str
    referral_protection_hours: int | None = Field(
        description="报备保护期（小时）；定点截止时为空，见 referral_protection_text")
    referral_protection_text: str
    visit_protection_days: int
    lead_time_minutes: int
    phone_policy: str
    name_policy: str


class BrokerProjectOut(BaseModel):
    id: int
    name: str
    city: str
    district: str
    price_min_yuan: int | None
    price_max_yuan: int | None
    layouts: list[str]
    cooperation: str
    rules: RuleSummary
    campaigns: list[CampaignOut] = Field(description="最近发布、未结束的活动（至多 3 个）")


class BrokerMeOut(BaseModel):
    id: int
    kind: Literal["agency", "referrer"]
    status: Literal["pending", "active", "frozen"]
    agency_name: str | None
    agency_status: str | None
    phone_masked: str
    can_refer: bool = Field(description="本人与所属渠道公司都已激活")


class BrokerCustomerOut(BaseModel):
    id: int = Field(description="报备 id")
    project_id: int
    project_name: str
    customer_name: str | None
    phone_masked: str
    customer_group: CustomerGroup
    state: ReferralState
    reason_code: str
    reason: str
    created_at: UtcDateTime
    protection_until: UtcDateTime | None
    visits: list[UtcDateTime] = Field(description="该客户在报备之后的到访时间（只含时间）")
