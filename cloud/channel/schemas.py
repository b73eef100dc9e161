"""Request and response bodies of the channel API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

AgencyStatus = Literal["invited", "pending", "active", "frozen"]
BrokerStatus = Literal["pending", "active", "frozen"]
ReferralState = Literal["pending", "confirmed", "invalid", "expired"]
CustomerGroup = Literal["individual", "corporate"]
Rating = Annotated[int | None, Field(ge=1, le=5, description="评级 1–5 星")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyIn(_In):
    name: str = Field(min_length=1, max_length=100, description="渠道公司名称")


class AgencyUpdate(_In):
    status: Literal["active", "frozen"] | None = Field(
        None, description="active 审核通过/解冻 / frozen 冻结")
    rating: Rating = None
    team: str | None = Field(None, max_length=64, pattern=r"^[^\x00-\x1f]*$",
                             description="渠道团队（规则中的团队差异化设置按此生效）；空字符串为移出团队")


class AgencyOut(BaseModel):
    id: int
    name: str
    status: AgencyStatus
    rating: int | None
    team: str | None = Field(description="渠道团队")
    invite_code: str = Field(description="邀请码：经纪人凭此加入；也可做成邀请链接")
    created_at: UtcDateTime
    updated_at: UtcDateTime


class JoinIn(_In):
    invite_code: str | None = Field(None, min_length=4, max_length=16,
                                    description="渠道公司邀请码；不填则以个人身份（全民营销）加入")
    phone: str = Field(min_length=1, max_length=40, description="本人手机号")


class BrokerUpdate(_In):
    status: Literal["active", "frozen"] | None = Field(
        None, description="active 审核通过/解冻 / frozen 冻结")
    rating: Rating = None


class BrokerOut(BaseModel):
    id: int
    user_id: int
    agency_id: int | None
    kind: Literal["agency", "referrer"] = Field(
        description="agency 渠道经纪人 / referrer 个人推荐人")
    status: BrokerStatus
    rating: int | None
    phone_masked: str
    display_name: str | None = Field(None, description="经纪人姓名（账号的姓名）")
    created_at: UtcDateTime


class RuleVersionIn(_In):
    effective_from: UtcDateTime | None = Field(
        None, description="生效时间（不早于当前时间）；不填为立即生效")
    rules: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="规则参数（见 docs/attribution.md）；未填的取默认值，不含版本号与生效时间")


class RuleVersionOut(BaseModel):
    project_id: int
    version: int
    effective_from: UtcDateTime
    rules: dict[str, JsonValue]


class ReferralIn(_In):
    project_id: int = Field(ge=1, le=DB_INT_MAX)
    phone: str = Field(min_length=1, max_length=40,
                       description="客户手机号：完整号码，或项目允许的隐号，如 138****5678")
    name: str = Field(min_length=1, max_length=40, description="客户姓名")
    customer_group: CustomerGroup = Field("individual",
                                          description="individual 个人客户 / corporate 企业客户")


class ReferralOut(BaseModel):
    id: int
    project_id: int
    broker_id: int
    agency_id: int | None
    customer_group: CustomerGroup
    customer_name: str | None = Field(description="客户姓名（脱敏）")
    phone_masked: str
    state: ReferralState = Field(description="pending 待确认 / confirmed 有效 / invalid 无效 / "
                                             "expired 已失效")
    reason_code: str = Field(description="判客原因代码（docs/attribution.md）")
    reason: str = Field(description="原因（中文）")
    rule_version: int
    protection_until: UtcDateTime | None
    created_at: UtcDateTime = Field(description="报备时间（服务器时间）")
    decided_at: UtcDateTime


class QrCheckInOut(BaseModel):
    scanned_at: UtcDateTime = Field(description="扫码时间（设备时间，经校正）")
    site_id: str
    method: Literal["qr", "manual"] = Field(
        "qr", description="qr 扫码带看 / manual 前台手工指定（无码带看，需复核）")
    outcome: Literal["accepted", "refused", "replayed"] = Field(
        description="accepted 带看确认 / refused 设备拒收 / replayed 已在其他设备使用过（风险）")
    reason_code: str
    edge_state: ReferralState | None = Field(description="设备离线判定（临时）")
    edge_reason: str | None
    cloud_state: ReferralState | None = Field(description="云端判定（以此为准）")
    cloud_reason: str | None
    differs: bool = Field(description="云端判定与设备临时判定不同")


class ReferralDetail(ReferralOut):
    evidence: list[str] | None = Field(
        description="判定依据的事件（仅渠道经理与总部可见；经纪人看不到他人的报备）")
    qr_check_ins: list[QrCheckInOut] = Field(
        default_factory=list, description="扫码带看记录：设备的临时判定与云端判定并列")


class QrOut(BaseModel):
    token: str = Field(description="带看码（签名令牌，一次有效）")
    qr_text: str = Field(description="二维码内容：扫码枪或摄像头读到的文本，也可手工输入")
    expires_at: UtcDateTime = Field(description="过期时间")


class ReviewIn(_In):
    approved: bool = Field(description="true 审核通过 / false 驳回")
    comment: str = Field("", max_length=200, description="审核意见；驳回时必填")


class CooperationIn(_In):
    agency_ids: list[Annotated[int, Field(ge=1, le=DB_INT_MAX)]] = Field(
        max_length=500, description="合作渠道公司；空列表：项目对所有渠道公司开放")


class CooperationOut(BaseModel):
    project_id: int
    agency_ids: list[int] = Field(description="合作渠道公司；空：对所有渠道公司开放")
