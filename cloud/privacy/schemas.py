"""Request and response bodies of the data-subject request API."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cloud.faces.schemas import SubjectFace
from shared.events import Text
from shared.timeutil import UtcDateTime

Kind = Literal["access", "copy", "correction", "deletion"]
Status = Literal["open", "completed", "refused"]
Channel = Literal["onsite", "phone", "email", "letter", "online"]
RefusalCode = Literal["identity_unverified", "legal_retention", "no_data", "unfounded"]


class SubjectRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Kind = Field(description="access 查阅 / copy 复制 / correction 更正 / deletion 删除")
    phone: str = Field(min_length=1, max_length=40,
                       description="申请人手机号（即其客户记录的手机号）")
    channel: Channel = Field(description="受理渠道：onsite 现场 / phone 电话 / email 邮件 / "
                                         "letter 信函 / online 线上")
    detail: Text | None = Field(None, max_length=500, description="申请内容（申请人原话）")


class SubjectRequestPublic(BaseModel):
    id: int
    kind: Kind
    status: Status
    channel: Channel
    phone_masked: str
    received_at: UtcDateTime
    due_at: UtcDateTime = Field(description="答复期限：受理后第 15 个工作日结束")
    overdue: bool = Field(description="未办结且已过答复期限")
    created_by: int
    handled_by: int | None
    closed_at: UtcDateTime | None
    refusal_code: RefusalCode | None
    resolution: str | None


class SubjectRequestDetail(SubjectRequestPublic):
    detail: str | None = Field(description="申请内容")


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text = Field(min_length=1, max_length=50, description="更正后的姓名")


class ResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resolution: Text = Field(min_length=2, max_length=500,
                             description="办理结果（如：已当面提供副本）")


class RefusalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: RefusalCode = Field(description="identity_unverified 身份未核实 / legal_retention "
                                          "依法需保留 / no_data 无该人信息 / unfounded 请求无依据")
    reason: Text = Field(min_length=2, max_length=500, description="拒绝理由，将告知申请人")


class SubjectVisit(BaseModel):
    id: str
    site_id: str
    visit_date: date
    occurred_at: UtcDateTime
    party_size: int
    source: str
    intent: str | None
    consent_notice_version: str | None = Field(
        description="同意的告知书版本；空：旧版设备登记，无记录")
    consent_method: str | None = Field(
        description="kiosk_screen 平板勾选 / staff_confirmed 工作人员确认")
    consent_accepted_at: UtcDateTime | None


class SubjectFollowUp(BaseModel):
    id: str
    kind: str
    reached: bool
    note: str
    occurred_at: UtcDateTime


class SubjectCustomer(BaseModel):
    customer_id: int
    project_id: int
    project_name: str
    phone: str
    name: str | None
    status: str
    first_visit_at: UtcDateTime
    last_visit_at: UtcDateTime
    visits: list[SubjectVisit]
    follow_ups: list[SubjectFollowUp]


class SubjectReferral(BaseModel):
    """A channel referral (报备) that named the subject by their full number."""

    id: int
    project_id: int
    project_name: str
    agency_name: str | None = Field(description="报备的渠道公司；空：个人推荐人")
    name: str
    phone: str
    state: str
    reason_code: str
    created_at: UtcDateTime


class SubjectLead(BaseModel):
    """A form the subject left on a broker's share page (线索), by their full number."""

    id: int
    project_id: int
    project_name: str
    agency_name: str | None = Field(description="分享链接所属经纪人的渠道公司；空：个人推荐人")
    name: str
    phone: str
    consent_version: str = Field(description="留资时同意的告知版本")
    created_at: UtcDateTime
    referral_id: int | None = Field(description="经纪人据此提交的报备")


class SubjectCall(BaseModel):
    """A call the subject made to a project, registered at its sales office (来电登记)."""

    id: str
    project_id: int
    project_name: str
    phone: str
    name: str | None = Field(description="来电时留下的姓名")
    awareness: str | None = Field(description="认知途径（代码）")
    awareness_name: str = Field(description="认知途径（名称）")
    occurred_at: UtcDateTime


class SubjectData(BaseModel):
    """Everything held about the subject, for access and copy requests."""

    request_id: int
    customers: list[SubjectCustomer]
    referrals: list[SubjectReferral]
    leads: list[SubjectLead]
    calls: list[SubjectCall] = Field(description="案场登记的来电（来电登记）")
    faces: list[SubjectFace] = Field(
        default_factory=list, description="案场保存的申请人人脸（经单独同意）：授权记录与识别次数；"
                                          "人脸图像与特征值只在案场设备上")


class ErasureOut(BaseModel):
    request: SubjectRequestPublic
    customers_erased: int
    visits_kept_anonymous: int
    follow_up_notes_cleared: int
