from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloud.sales.models import Visit
from shared.timeutil import UtcDateTime

if TYPE_CHECKING:
    from cloud.sales.visits import ListedVisit


class VisitConsentPublic(BaseModel):
    """The visitor's consent as the appliance recorded it with the visit."""

    notice_version: str = Field(description="同意告知书版本")
    method: str = Field(description="kiosk_screen 平板自助同意 / staff_confirmed 工作人员确认")
    accepted_at: UtcDateTime = Field(description="同意时间（前台平板时钟，仅供参考）")
    recorded_at: UtcDateTime = Field(description="案场设备收到登记的时间（设备时钟）")
    tablet: str = Field(description="登记平板（在案场局域网中的地址）")

    @classmethod
    def of(cls, visit: Visit | ListedVisit) -> VisitConsentPublic | None:
        """None for visits from agents older than edge schema v9 (no consent recorded)."""
        if (visit.consent_notice_version is None or visit.consent_method is None
                or visit.consent_accepted_at is None or visit.consent_recorded_at is None
                or visit.consent_tablet is None):
            return None
        return cls(notice_version=visit.consent_notice_version, method=visit.consent_method,
                   accepted_at=visit.consent_accepted_at,
                   recorded_at=visit.consent_recorded_at, tablet=visit.consent_tablet)


class VisitPublic(BaseModel):
    id: str
    site_id: str
    project_id: int
    customer_id: int
    customer_name_masked: str | None
    phone_masked: str
    consultant_id: int | None
    consultant_name: str | None
    party_size: int
    intent: str | None
    source: str
    is_first_visit: bool
    visit_date: date
    occurred_at: UtcDateTime
    edge_occurred_at: UtcDateTime
    time_corrected: bool
    consent: VisitConsentPublic | None = Field(
        description="访客对个人信息告知的同意记录；为空表示登记时的设备版本尚未记录同意")
    broker_id: int | None = Field(None, description="带看经纪人（扫码带看）；为空为自然来访")
    referral_id: int | None = Field(None, description="扫码带看确认的报备")


class VisitPage(BaseModel):
    items: list[VisitPublic]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多")
    total: int = Field(description="符合筛选条件的到访总数（精确）")


class ConsultantOption(BaseModel):
    id: int
    name: str
    active: bool
    site_ids: list[str] = Field(description="其中在您数据范围内的案场")


class CustomerPublic(BaseModel):
    id: int
    project_id: int
    name_masked: str | None
    phone_masked: str
    owner_id: int | None
    status: str
    visit_count: int
    first_visit_at: UtcDateTime
    last_visit_at: UtcDateTime
    protection_until: UtcDateTime


class CustomerCard(CustomerPublic):
    site_id: str
    owner_name: str | None


class VisitEntry(BaseModel):
    kind: Literal["visit"] = "visit"
    id: str
    at: UtcDateTime = Field(description="到访时间")
    consultant_id: int | None
    consultant_name: str | None
    site_id: str
    is_first_visit: bool
    party_size: int
    source: str
    intent: str | None
    time_corrected: bool
    consent: VisitConsentPublic | None = Field(description="访客对个人信息告知的同意记录")
    broker_id: int | None = Field(None, description="带看经纪人（扫码带看）")
    referral_id: int | None = None


class FollowUpEntry(BaseModel):
    kind: Literal["follow_up"] = "follow_up"
    id: str
    at: UtcDateTime = Field(description="跟进时间")
    consultant_id: int
    consultant_name: str | None
    follow_up_kind: str = Field(description="call 电话 / visit 到访 / wechat 微信 / meeting 面谈")
    reached: bool
    effective: bool
    note: str
    next_at: UtcDateTime | None
    recorded_via: str


TimelineEntry = Annotated[VisitEntry | FollowUpEntry, Field(discriminator="kind")]


class CustomerTimeline(BaseModel):
    customer: CustomerCard
    items: list[TimelineEntry] = Field(description="到访与跟进，新的在前")
    has_more: bool = Field(description="记录更多，只列出了最新的部分")


class UnmaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=200, description="查看原因，写入审计")


class UnmaskedContact(BaseModel):
    customer_id: int
    phone: str
    name: str | None


class FollowUpPublic(BaseModel):
    id: str
    site_id: str
    project_id: int
    customer_id: int
    visit_id: str | None
    consultant_id: int
    consultant_name: str | None
    kind: str = Field(description="call 电话 / visit 到访 / wechat 微信 / meeting 面谈")
    reached: bool
    effective: bool = Field(description="有效跟进：联系上客户或到访")
    note: str
    next_at: UtcDateTime | None
    occurred_at: UtcDateTime
    recorded_via: str = Field(description="edge 经案场设备同步 / cloud 直接提交到云端")
    created_at: UtcDateTime
