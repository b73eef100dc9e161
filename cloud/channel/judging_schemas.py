"""Bodies of the judging routes: why a customer is owned (判客依据) and the what-if of a
proposed rule set (规则模拟). Ids are the database's; evidence lists the engine's event
ids (`referral:12`, `visit:…`, `follow_up:…`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from cloud.channel.schemas import ReferralState
from shared.timeutil import UtcDateTime

OwnerKind = Literal["channel", "natural", "none"]
WHAT_IF_DAYS_MAX = 180


class ReasonOut(BaseModel):
    code: str = Field(description="判客原因代码（docs/attribution.md）")
    text: str = Field(description="原因（中文）")
    evidence: list[str] = Field(description="判定依据的事件")
    rule_version: int


class OwnerOut(BaseModel):
    kind: OwnerKind = Field(description="channel 渠道 / natural 自然来访 / none 无归属")
    broker_id: int | None
    broker_name: str | None
    agency_id: int | None
    agency_name: str | None
    referral_id: int | None
    stage: Literal["referral", "visit", "deal"] | None = Field(
        description="referral 报备保护期 / visit 到访保护期 / deal 已成交锁定")
    protection_until: UtcDateTime | None
    consultant_id: int | None
    consultant_name: str | None
    consultant_protection_until: UtcDateTime | None
    in_public_pool: bool
    reason: ReasonOut


class ChangeOut(BaseModel):
    referral_id: int
    state: ReferralState
    state_text: str
    reason: ReasonOut


class RuleChangeOut(BaseModel):
    field: str = Field(description="规则参数名")
    before: JsonValue
    after: JsonValue


class FactOut(BaseModel):
    """What one event says; only the fields of its kind are set."""

    broker_id: int | None = None
    broker_name: str | None = None
    agency_id: int | None = None
    agency_name: str | None = None
    actor_name: str | None = Field(None, description="置业顾问或跟进人")
    phone_masked: str | None = None
    customer_name: str | None = Field(None, description="客户姓名（脱敏）")
    guided: bool | None = Field(None, description="到访：true 渠道带访 / false 自然到访")
    effective: bool | None = Field(None, description="跟进：是否有效")
    stage: str | None = Field(None, description="成交节点：pledge / subscription / contract")
    approved: bool | None = None
    rule_version: int | None = Field(None, description="规则变更：生效的版本")
    rule_changes: list[RuleChangeOut] | None = Field(None, description="规则变更：改了什么")
    override_state: ReferralState | None = Field(None, description="人工改判：改为的状态")
    override_source: Literal["appeal", "risk_case"] | None = Field(
        None, description="人工改判：appeal 申诉 / risk_case 风控案件")
    override_source_id: int | None = None
    comment: str | None = Field(None, description="人工改判：处理意见")


class StepOut(BaseModel):
    at: UtcDateTime
    step_id: str = Field(description="事件 id；规则变更为 rules:vN；到期为 expiry:…/lapse:…")
    kind: str
    title: str = Field(description="这一步是什么（中文）")
    fact: FactOut
    changes: list[ChangeOut] = Field(description="这一步改变的报备状态")
    owner: OwnerOut = Field(description="这一步之后的归属")


class ReferralStateOut(BaseModel):
    referral_id: int
    broker_id: int
    broker_name: str | None
    agency_id: int | None
    agency_name: str | None
    phone_masked: str
    state: ReferralState
    state_text: str
    reason: ReasonOut
    submitted_at: UtcDateTime
    protection_until: UtcDateTime | None


class RuleVersionBrief(BaseModel):
    version: int
    effective_from: UtcDateTime


class TimelineOut(BaseModel):
    """One customer's timeline and the decision as of now."""

    phone_masked: str
    customer_id: int | None = Field(description="销售侧客户 id（没有到访的报备客户为空）")
    rule_version: int = Field(description="当前生效的规则版本")
    owner: OwnerOut
    referrals: list[ReferralStateOut]
    visit_count: int = Field(description="到访天数（北京时间）")
    steps: list[StepOut]


class AttributionOut(BaseModel):
    project_id: int
    as_of: UtcDateTime
    rule_versions: list[RuleVersionBrief]
    timelines: list[TimelineOut] = Field(
        description="一般为一位客户；隐号报备可能对应多位客户时各一条；没有记录时为空")


class WhatIfIn(BaseModel):
    """The parameters of a proposed version, as published (POST …/rules), and the window."""

    model_config = ConfigDict(extra="forbid")

    rules: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="拟议的规则参数（同发布规则）；未填的取默认值")
    days: int = Field(30, ge=1, le=WHAT_IF_DAYS_MAX,
                      description="回放最近多少天内有报备或到访的客户（1–180）")
    effective_from: UtcDateTime | None = Field(
        None, description="拟议版本的生效时间：不填则假定自回放起点起生效；填写则自该时间起"
                          "（不早于回放起点），晚于现在时判定到该时间，列出生效那一刻会变化的客户")


class ReferralDiff(BaseModel):
    referral_id: int
    broker_id: int
    broker_name: str | None
    before_state: ReferralState
    before: ReasonOut
    after_state: ReferralState
    after: ReasonOut
    before_protection_until: UtcDateTime | None
    after_protection_until: UtcDateTime | None
    window_changed: bool = Field(description="保护期截止时间会变化")


class CustomerDiff(BaseModel):
    phone_masked: str
    customer_id: int | None
    referral_id: int | None = Field(description="用于打开判客依据：该客户的一条报备")
    owner_changed: bool
    owner_before: OwnerOut
    owner_after: OwnerOut
    referrals: list[ReferralDiff] = Field(description="状态或原因会变化的报备")


class WhatIfOut(BaseModel):
    project_id: int
    as_of: UtcDateTime = Field(description="两边判定到此时：现在，或晚于现在的生效时间")
    replayed_from: UtcDateTime = Field(description="拟议规则假定自此时起生效")
    days: int
    proposed_version: int
    checked: int = Field(description="回放的客户数")
    limit: int = Field(description="一次最多回放的客户数")
    truncated: bool = Field(description="客户超过上限：只回放了最近活动的客户")
    changed: int
    owner_changed: int
    referrals_changed: int = Field(description="状态或原因会变化的报备数")
    windows_changed: int = Field(description="保护期截止时间会变化的报备数")
    customers: list[CustomerDiff]
