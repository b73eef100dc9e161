"""Request and response bodies of appeals (申诉), risk cases (风控) and notifications."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

AppealKind = Literal["referral", "deal"]
AppealState = Literal["submitted", "under_review", "upheld", "rejected", "withdrawn"]
CaseState = Literal["open", "confirmed", "dismissed"]
Comment = Field(min_length=1, max_length=1000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AppealIn(_In):
    referral_id: int = Field(ge=1, le=DB_INT_MAX)
    kind: AppealKind | None = Field(
        None, description="referral 报备申诉 / deal 成交申诉；"
                          "不填时按报备状态：无效、失效为报备申诉，其余为成交申诉")
    reason: str = Field(min_length=2, max_length=1000, description="申诉理由")


class AppealDecisionIn(_In):
    outcome: Literal["upheld", "rejected"] = Field(description="upheld 申诉成立 / rejected 驳回")
    comment: str = Comment
    new_state: Literal["pending", "confirmed", "invalid", "expired"] | None = Field(
        None, description="申诉成立时改判的报备状态（不填则不改判）")


class EvidenceOut(BaseModel):
    id: int
    filename: str
    size: int
    content_type: str
    created_at: UtcDateTime


class OverrideOut(BaseModel):
    id: int
    state: str
    engine_state: str = Field(description="判客引擎原判定的状态")
    engine_reason: str = Field(description="判客引擎原判定的原因代码")
    source: str
    source_id: int
    comment: str
    decided_by: int
    created_at: UtcDateTime


class AppealOut(BaseModel):
    id: int
    referral_id: int
    project_id: int
    broker_id: int
    agency_id: int | None
    kind: AppealKind
    reason: str
    state: AppealState
    appealed_state: str
    appealed_reason: str
    deadline: UtcDateTime = Field(description="申诉期限（判定时间 + 项目设置的天数）")
    reviewer_id: int | None
    decision_comment: str | None
    created_at: UtcDateTime
    decided_at: UtcDateTime | None


class AppealDetail(AppealOut):
    evidence: list[EvidenceOut]
    override: OverrideOut | None
    referral_phone_masked: str
    referral_state: str


class RiskCaseOut(BaseModel):
    id: int
    project_id: int
    referral_id: int | None = Field(description="null：案场级的检查（如到访未登记）")
    broker_id: int | None
    subject_key: str | None = Field(description="案场级检查的对象（案场:日期）")
    check_code: str
    check_title: str
    stage: str
    severity: Literal["flag", "review", "block"]
    summary: str
    state: CaseState
    reviewer_id: int | None
    comment: str | None
    voided: bool
    created_at: UtcDateTime
    decided_at: UtcDateTime | None


class RiskCaseDetail(RiskCaseOut):
    evidence: dict[str, JsonValue]
    referral_phone_masked: str | None
    referral_state: str | None


class RiskReviewIn(_In):
    outcome: Literal["confirmed", "dismissed"] = Field(
        description="confirmed 确认 / dismissed 排除")
    comment: str = Comment
    void_attribution: bool = Field(False, description="确认时作废该报备的归属（可被申诉）")


class CheckParamOut(BaseModel):
    name: str
    label: str
    default: int
    min: int
    max: int


class CheckOut(BaseModel):
    code: str
    title: str
    stage: str
    status: str = Field(description="active 已启用计算 / needs_deals 需成交数据 / "
                                    "needs_cameras 需摄像头")
    batched: bool = Field(description="只在报备后的批量风控中运行（跨经纪人、跨报备），不能拦截")
    action: Literal["off", "flag", "review", "block"]
    params: dict[str, int]
    default_action: Literal["off", "flag", "review", "block"]
    actions: list[Literal["off", "flag", "review", "block"]] = Field(
        description="可选的动作（只有报备时运行的检查可以拦截）")
    param_specs: list[CheckParamOut] = Field(description="参数的中文名、默认值与范围")
    faces: bool = Field(description="人脸检查：只在开启人脸识别的案场有数据，只立案")


class RiskPolicyOut(BaseModel):
    project_id: int
    appeal_deadline_days: int
    checks: list[CheckOut]


class RiskPolicyIn(_In):
    appeal_deadline_days: int | None = Field(None, ge=1, le=90, description="判定后可申诉的天数")
    checks: dict[str, dict[str, Any]] | None = Field(
        None, description="{检查代码: {action: off|flag|review|block, params: {...}}}")


class DashboardOut(BaseModel):
    open: list[dict[str, JsonValue]]
    trend: list[dict[str, JsonValue]]
    checks: dict[str, str] = Field(description="检查代码 → 中文名称")


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    data: dict[str, JsonValue]
    created_at: UtcDateTime
    read_at: UtcDateTime | None


class ReadIn(_In):
    """Which of my notifications I have read: these ids, or all of them."""

    ids: list[Annotated[int, Field(ge=1, le=DB_INT_MAX)]] = Field(
        default_factory=list, max_length=200, description="消息 id（不是我的将被忽略）")
    all: bool = Field(False, description="true：全部标记为已读")

    @model_validator(mode="after")
    def _one_way(self) -> ReadIn:
        if self.all == bool(self.ids):
            raise ValueError("请指定消息 id，或全部已读（二选一）")
        return self


class UnreadOut(BaseModel):
    unread: int = Field(description="未读消息数")
    marked: int | None = Field(None, description="本次标记为已读的条数（全部已读时）")
