"""The risk checks (渠道风控) of domain/channel-rules.md and each project's policy: which
action each check takes (off / flag / review / block), its parameters, and the appeal
deadline.

Every check of the rules page is listed. A check that needs data not built yet would
say so by its status (`needs`), a project could set it already, and it would start
running when its data arrives, without a schema change; none does since the deal checks
(cloud.deals.risk, ADR 0055).

A referral-stage check runs in the referral's request only when it is set to `block`
(it must refuse then); set to `flag` or `review` it runs in the job
channel.risk_referral_scan a minute later (ADR 0049). The `batched` checks look across
brokers and referrals and only ever run there, so they cannot block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel.errors import RiskPolicyInvalid
from cloud.channel.risk_models import RiskPolicy
from cloud.identity.deps import Principal
from shared.timeutil import utcnow

ACTIONS = ("off", "flag", "review", "block")
STAGES = ("referral", "confirmation", "allocation", "visit")
DEFAULT_APPEAL_DEADLINE_DAYS = 7
# The console's labels of the parameters (one meaning per name across the checks).
PARAM_LABELS = {
    "risk_window_minutes": "风险窗口（分钟）",
    "lookback_days": "回看天数",
    "max_edits": "最多修改次数",
    "max_referrals": "最多报备数",
    "window_minutes": "统计时段（分钟）",
    "max_brokers": "最多经纪人数",
    "window_days": "统计时段（天）",
    "max_consultants": "最多顾问数",
    "window_hours": "统计时段（小时）",
    "tolerance": "容差（人）",
    "hours": "时长（小时）",
    "distance_m": "距离（米）",
}


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    stage: str
    default_action: str
    # Integer parameters with their defaults and bounds: name → (default, min, max).
    params: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    needs: str | None = None  # "deals" / "cameras": not computable with today's data
    batched: bool = False  # only in the referral scan: never at the referral, never blocks

    @property
    def status(self) -> str:
        return "active" if self.needs is None else f"needs_{self.needs}"

    @property
    def actions(self) -> tuple[str, ...]:
        """What this check may be set to: only a referral-stage check run at the referral
        can refuse it (`block`)."""
        return ACTIONS if self.stage == "referral" and not self.batched else ACTIONS[:3]


CHECKS: dict[str, Check] = {c.code: c for c in (
    Check("late_referral", "临近到访报备", "visit", "review",
          {"risk_window_minutes": (60, 1, 24 * 60)}),
    Check("searched_before_referral", "报备前已查询", "referral", "review",
          {"lookback_days": (30, 1, 365)}),
    Check("name_edits", "客户姓名多次修改", "referral", "flag", {"max_edits": (2, 1, 20)}),
    Check("broker_burst", "经纪人短时大量报备", "referral", "flag",
          {"max_referrals": (20, 2, 1000), "window_minutes": (60, 1, 24 * 60)}, batched=True),
    Check("contested_number", "同一号码多名经纪人报备", "referral", "review",
          {"max_brokers": (3, 1, 50), "window_days": (7, 1, 90)}, batched=True),
    Check("consultant_patterns", "多名顾问短时接触同一客户", "allocation", "flag",
          {"max_consultants": (3, 1, 20), "window_hours": (24, 1, 24 * 30)}),
    Check("duplicate_qr", "带看码重复使用", "confirmation", "review"),
    # Raised by cloud.channel.manual_guides: a broker picked by hand, not by a code.
    Check("manual_guide", "前台手工指定带看", "confirmation", "review"),
    # Face checks (cloud.faces.risk): they run on what sites with face use switched on
    # send; with none, they find nothing.
    Check("face_before_referral", "报备前已被摄像头识别", "visit", "review",
          {"lookback_days": (90, 1, 365)}),
    Check("face_other_broker", "到访带看经纪人与报备经纪人不一致", "visit", "review"),
    Check("face_unregistered", "摄像头到访人数多于前台登记", "visit", "review",
          {"tolerance": (2, 0, 100)}),
    # Deal checks (cloud.deals.risk): they read the buyer's documents.
    Check("joint_buyers", "联名购房人来源不一", "confirmation", "review"),
    Check("short_deal", "报备后短时成交", "confirmation", "review",
          {"hours": (24, 1, 24 * 30)}),
    Check("unverified_buyer", "成交未核验身份", "confirmation", "review"),
    Check("far_signing", "签约地点远离带看地点", "confirmation", "flag",
          {"distance_m": (500, 50, 100_000)}),
)}


@dataclass(frozen=True)
class CheckSetting:
    action: str
    params: dict[str, int]


@dataclass(frozen=True)
class Policy:
    project_id: int
    appeal_deadline_days: int
    checks: dict[str, CheckSetting]

    def setting(self, code: str) -> CheckSetting:
        return self.checks[code]


def _setting(check: Check, stored: dict[str, Any] | None) -> CheckSetting:
    stored = stored or {}
    params = {name: int(stored.get("params", {}).get(name, default))
              for name, (default, _, _) in check.params.items()}
    return CheckSetting(action=str(stored.get("action", check.default_action)), params=params)


def policy(session: Session, project_id: int) -> Policy:
    return build(project_id, session.get(RiskPolicy, project_id))


def build(project_id: int, row: RiskPolicy | None) -> Policy:
    """The policy of this stored row; the defaults without one."""
    stored = row.checks if row else {}
    return Policy(
        project_id=project_id,
        appeal_deadline_days=row.appeal_deadline_days if row else DEFAULT_APPEAL_DEADLINE_DAYS,
        checks={code: _setting(check, stored.get(code)) for code, check in CHECKS.items()})


def validate(checks: dict[str, Any]) -> dict[str, Any]:
    """The stored form of `checks` ({code: {action, params}}), or RiskPolicyInvalid."""
    clean: dict[str, Any] = {}
    for code, value in checks.items():
        check = CHECKS.get(code)
        if check is None:
            raise RiskPolicyInvalid(f"未知的风控检查：{code}")
        if not isinstance(value, dict) or set(value) - {"action", "params"}:
            raise RiskPolicyInvalid(f"{check.title}：设置应为 action 与 params")
        action = value.get("action", check.default_action)
        if action not in ACTIONS:
            raise RiskPolicyInvalid(f"{check.title}：动作只能是 {' / '.join(ACTIONS)}")
        if action == "block" and check.stage != "referral":
            raise RiskPolicyInvalid(f"{check.title}：只有报备阶段的检查可以拦截")
        if action == "block" and check.batched:
            raise RiskPolicyInvalid(f"{check.title}：在报备后批量检查，不能拦截")
        params = value.get("params", {})
        if not isinstance(params, dict):
            raise RiskPolicyInvalid(f"{check.title}：params 应为对象")
        for name, given in params.items():
            if name not in check.params:
                raise RiskPolicyInvalid(f"{check.title}：未知参数 {name}")
            _, low, high = check.params[name]
            if not isinstance(given, int) or isinstance(given, bool) or not low <= given <= high:
                raise RiskPolicyInvalid(f"{check.title}：{name} 应为 {low}–{high} 的整数")
        clean[code] = {"action": action, "params": dict(params)}
    return clean


def update(session: Session, *, principal: Principal, project_id: int,
           appeal_deadline_days: int | None, checks: dict[str, Any] | None) -> Policy:
    row = session.get(RiskPolicy, project_id, with_for_update=True)
    if row is None:
        row = RiskPolicy(project_id=project_id, appeal_deadline_days=DEFAULT_APPEAL_DEADLINE_DAYS,
                         checks={})
    if appeal_deadline_days is not None:
        row.appeal_deadline_days = appeal_deadline_days
    if checks is not None:
        row.checks = {**row.checks, **validate(checks)}
    row.updated_by = principal.user_id
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit_service.record(session, action="channel.risk_policy_update", principal=principal,
                         object_type="project", object_id=str(project_id),
                         detail={"appeal_deadline_days": row.appeal_deadline_days,
                                 "checks": checks or {}})
    return policy(session, project_id)
