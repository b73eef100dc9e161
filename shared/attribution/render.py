"""Decisions in Chinese, one line per fact: what `anchang channel replay` prints and what
the "why does A own C" screen can show. Times in Asia/Shanghai, numbers masked."""

from __future__ import annotations

from datetime import datetime

from shared.attribution.outcome import Change, Decision, Owner, Reason, TraceStep
from shared.timeutil import SHANGHAI

STATE_TEXT = {"pending": "待确认", "confirmed": "有效", "invalid": "无效", "expired": "已失效"}
KIND_TEXT = {
    "referral": "报备", "visit": "到访", "qr_check_in": "扫码带看", "follow_up": "跟进",
    "deal": "成交节点", "completion": "补全号码", "consultant_assignment": "分配置业顾问",
    "pool_release": "转入公客池", "old_owner": "老业主信息", "rule_change": "规则变更",
    "override": "人工改判",
    "expiry": "保护期到期", "lapse": "跟进逾期", "consultant_lapse": "置业顾问保护期结束",
}
STAGE_TEXT = {"referral": "报备保护期", "visit": "到访保护期", "deal": "已成交锁定"}


def local(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def reason_text(reason: Reason) -> str:
    evidence = "、".join(reason.evidence) or "—"
    return f"{reason.code} {reason.text}（依据：{evidence}；规则 v{reason.rule_version}）"


def owner_text(owner: Owner) -> str:
    if owner.kind == "channel":
        head = f"渠道 经纪人 {owner.broker_id}（{owner.agency_id}）"
        stage = STAGE_TEXT[owner.stage] if owner.stage else ""
        if owner.protection_until is not None:
            stage += f"至 {local(owner.protection_until)}"
        head += f"，{stage}"
    elif owner.kind == "natural":
        head = "自然来访"
    else:
        head = "无归属"
    if owner.consultant_id is not None:
        head += f"；置业顾问 {owner.consultant_id}"
        if owner.consultant_protection_until is not None:
            head += f" 保护至 {local(owner.consultant_protection_until)}"
    if owner.in_public_pool:
        head += "；公客池"
    return f"{head} — {reason_text(owner.reason)}"


def change_text(change: Change) -> str:
    return f"报备 {change.referral_id} → {STATE_TEXT[change.state]}：{reason_text(change.reason)}"


def step_lines(step: TraceStep) -> list[str]:
    kind = KIND_TEXT.get(step.kind, step.kind)
    lines = [f"{local(step.at)}  {kind} [{step.step_id}]"]
    lines += [f"    {change_text(c)}" for c in step.changes]
    lines.append(f"    归属：{owner_text(step.owner)}")
    return lines


def decision_lines(decision: Decision) -> list[str]:
    lines = [f"截至 {local(decision.as_of)}（规则 v{decision.rule_version}，"
             f"到访 {decision.visit_count} 天）",
             f"  归属：{owner_text(decision.owner)}"]
    for ref in decision.referrals:
        until = f"，保护至 {local(ref.protection_until)}" if ref.protection_until else ""
        lines.append(f"  报备 {ref.referral_id}（经纪人 {ref.broker_id}，{ref.phone}）："
                     f"{STATE_TEXT[ref.state]}{until} — {reason_text(ref.reason)}")
    return lines
