"""Request and response bodies of the kiosk API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.bounds import DB_INT_MAX
from shared.consent import NOTICE_VERSION_MAX
from shared.events import VisitSource
from shared.reception_events import VisitProfile
from shared.timeutil import UtcDateTime

Classification = Literal["first_visit", "return_visit"]
Outcome = Literal["created", "replayed", "same_day_existing"]


class ConsentIn(BaseModel):
    """The visitor's acceptance of the notice on the kiosk screen."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    notice_version: str = Field(min_length=1, max_length=NOTICE_VERSION_MAX,
                                description="告知书版本（平板显示的版本）")
    accepted_at: AwareDatetime = Field(
        description="访客点击“同意并继续”的时间（平板时钟，仅作参考；设备另记收到时间）")


class VisitIn(BaseModel):
    """A walk-in to register. `phone` is normalised by the service (+86, spaces, dashes …)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_id: int | None = Field(None, ge=1, le=DB_INT_MAX,
                                   description="defaults to the site's project")
    phone: str = Field(min_length=1, max_length=40, description="mobile number as typed")
    name: str | None = Field(None, min_length=1, max_length=50)
    party_size: int = Field(ge=1, le=50, description="people in the group (组)")
    intent: str | None = Field(None, max_length=200)
    source: VisitSource = "natural"
    consultant_id: int | None = Field(None, ge=1, le=DB_INT_MAX,
                                      description="receiving consultant")
    # Optional in the schema so that a missing consent gets its own problem code
    # (consent_required) rather than a generic validation error; the service refuses it.
    consent: ConsentIn | None = Field(None, description="访客对个人信息告知的同意（必填）")
    qr_code: str | None = Field(None, min_length=1, max_length=600,
                                description="经纪人的扫码带看二维码内容：带看到访（可选）")
    guide_referral_id: int | None = Field(
        None, ge=1, le=DB_INT_MAX,
        description="无码带看：前台手工指定的带看经纪人的报备（来自 /kiosk/guides，可选）")
    profile: VisitProfile | None = Field(
        None, description="性别、认知途径、意向（户型、面积、预算、自住/投资）、客户等级")
    forgot_consultant: bool = Field(
        False, description="客户说“来过但忘了顾问”：按轮次接待，之前的顾问可在规定天数内认领")


class VisitOut(BaseModel):
    id: uuid.UUID
    project_id: int
    phone_masked: str
    name_masked: str | None
    party_size: int
    intent: str | None
    source: str
    consultant_id: int | None
    occurred_at: UtcDateTime
    visit_date: date = Field(description="Asia/Shanghai calendar day")
    classification: Classification
    provisional: bool = Field(description="decided on the edge without a fresh cloud view")
    visit_count: int = Field(description="this customer's visits including this one")
    owner_id: int | None
    owner_name: str | None
    seq: int
    broker_id: int | None = Field(None, description="带看经纪人（扫码带看）")
    referral_id: int | None = None
    guide_method: Literal["qr", "manual"] | None = Field(
        None, description="qr 扫码带看 / manual 前台手工指定（需渠道复核）")
    attribution: dict[str, Any] | None = Field(
        None, description="设备的临时判客结果（首访/复访、归属、经纪人保护期）；以云端判定为准")
    profile: VisitProfile = Field(default_factory=VisitProfile)
    profile_revision: int = 0
    consumed_turn: bool | None = Field(None, description="本次接待是否占用轮次")
    stand_in_for: int | None = Field(None, description="义务接待：代为接待的归属顾问")
    stand_in_share: int | None = Field(None, description="义务接待者在当日成交中的份额（%）")
    claimable_until: date | None = Field(None, description="“忘了顾问”可认领至（含）")
    phone_region: str | None = Field(None, description="号码归属地")


class RegistrationOut(VisitOut):
    outcome: Outcome
    same_day: bool = Field(description="the customer was already registered today")
    message: str


class CustomerLookupOut(BaseModel):
    project_id: int
    phone_masked: str
    known: bool = Field(description="the cloud or this office has seen this customer")
    classification: Classification = Field(description="what a registration now would be")
    provisional: bool
    visit_count: int = Field(description="visits so far")
    visited_today: bool
    owner_id: int | None
    owner_name: str | None
    last_visit_at: UtcDateTime | None
    protection_until: UtcDateTime | None


class ProjectOut(BaseModel):
    id: int
    name: str
    city: str | None
    is_default: bool = Field(description="the project a registration without one uses")


class ConsultantOut(BaseModel):
    id: int
    name: str
    roles: list[str]


class KioskStatusOut(BaseModel):
    cloud_link: Literal["online", "offline", "stalled", "refused"] = Field(
        description="online 已连接 / offline 未连接 / stalled 已连接但同步停滞 / "
        "refused 云端不接收本设备的数据（需管理员处理）")
    storage_full: bool = Field(description="存储空间已满：登记无法保存")
    sync_enabled: bool
    backlog: int
    last_acked_seq: int
    last_ack_at: UtcDateTime | None
    oldest_unacked_at: UtcDateTime | None
    clock_skew_seconds: float | None
    down_cursor: int


class QrCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=600, description="二维码内容（扫描或粘贴）")
    project_id: int | None = Field(None, ge=1, le=DB_INT_MAX)


class QrCodeOut(BaseModel):
    """A code this appliance accepts now (not yet used: registering the visit uses it)."""

    referral_id: int
    broker_id: int
    project_id: int
    phone_masked: str | None = Field(description="报备的客户号码（脱敏）；本设备未收到该报备时为空")
    referral_state: str | None
    protection_until: UtcDateTime | None
    expires_at: UtcDateTime


class GuideCandidateOut(BaseModel):
    """A broker who may have brought the visitor: a live referral of the visitor's number
    that this appliance holds (masked)."""

    referral_id: int
    broker_id: int
    broker_name: str | None = Field(description="经纪人姓名（脱敏）")
    broker_phone_masked: str | None = Field(description="经纪人手机号（脱敏）")
    agency_name: str | None = Field(description="渠道公司；个人经纪人为空")
    phone_masked: str = Field(description="报备的客户号码（脱敏）")
    masked: bool = Field(description="隐号报备：手工指定不能补全号码，需扫码带看")
    referral_state: str
    protection_until: UtcDateTime | None
    created_at: UtcDateTime
