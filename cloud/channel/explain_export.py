"""判客依据 as an Excel file: the timeline the console shows, one row per step, and each
referral's state — for a dispute file or a meeting. Numbers and names masked as on the
screen; times in Beijing time. Built from explain.explain's answer (the same engine run)."""

from __future__ import annotations

from collections.abc import Callable

from cloud.channel.judging_schemas import AttributionOut, FactOut, OwnerOut, StepOut
from cloud.downloads import XlsxBook, beijing
from shared.attribution.render import STAGE_TEXT

_OWNER_KIND = {"channel": "渠道", "natural": "自然来访", "none": "无归属"}
_DEAL_STAGE = {"pledge": "认筹", "subscription": "认购", "contract": "签约"}
_SOURCE = {"appeal": "申诉", "risk_case": "风控案件"}
_STATE = {"pending": "待确认", "confirmed": "有效", "invalid": "无效", "expired": "已失效"}


def _broker(f: FactOut) -> str:
    return f"{f.broker_name or f'经纪人 #{f.broker_id}'}（{f.agency_name or '个人推荐人'}）"


def fact_text(step: StepOut) -> str:
    """What the step says happened, as the console's timeline words it."""
    f = step.fact
    texts: dict[str, Callable[[], str]] = {
        "referral": lambda: f"{_broker(f)} 报备 {f.customer_name or ''} {f.phone_masked or ''}",
        "visit": lambda: (f"渠道带访：{_broker(f)}" if f.guided else "自然到访（无渠道带看）")
        + (f"，接待：{f.actor_name}" if f.actor_name else ""),
        "qr_check_in": lambda: f"扫码带看确认：{_broker(f)}"
        + (f"，接待：{f.actor_name}" if f.actor_name else ""),
        "follow_up": lambda: f"{f.actor_name or '—'} 跟进（{'有效' if f.effective else '无效'}）",
        "deal": lambda: f"成交节点：{_DEAL_STAGE.get(f.stage or '', f.stage)}",
        "referral_review": lambda: "开发商审核通过" if f.approved else "开发商审核未通过",
        "consultant_assignment": lambda: f"分配给置业顾问 {f.actor_name or '—'}",
        "rule_change": lambda: f"规则 v{f.rule_version} 生效："
        + "；".join(f"{c.field} {c.before} → {c.after}" for c in f.rule_changes or []),
        "override": lambda: f"{_SOURCE.get(f.override_source or '', '人工改判')}"
        + (f" #{f.override_source_id}" if f.override_source_id else "")
        + f"：{f.actor_name or '—'} 改判为{_STATE.get(f.override_state or '', '—')}"
        + (f"（{f.comment}）" if f.comment else ""),
    }
    describe = texts.get(step.kind)
    return describe() if describe else ""


def owner_text(owner: OwnerOut) -> str:
    text = _OWNER_KIND.get(owner.kind, owner.kind)
    if owner.kind == "channel":
        text += f"：{owner.broker_name or f'经纪人 #{owner.broker_id}'}"
        text += f"（{owner.agency_name or '个人推荐人'}）"
        if owner.stage:
            text += f"，{STAGE_TEXT[owner.stage]}"
    if owner.consultant_name:
        text += f"；置业顾问 {owner.consultant_name}"
    if owner.in_public_pool:
        text += "；公客池"
    return text


def workbook(answer: AttributionOut) -> bytes:
    book = XlsxBook()
    steps = book.sheet("判客依据", widths=(16, 20, 12, 48, 56, 40, 20))
    steps.header(["客户", "时间（北京）", "事件", "说明", "报备状态变化", "此后归属",
                  "保护期至（北京）"])
    for timeline in answer.timelines:
        for step in timeline.steps:
            changes = "；".join(
                f"报备 #{c.referral_id} → {c.state_text}：{c.reason.text}（{c.reason.code}，"
                f"规则 v{c.reason.rule_version}）" for c in step.changes)
            until = step.owner.protection_until
            steps.row([timeline.phone_masked, beijing(step.at), step.title, fact_text(step),
                       changes, owner_text(step.owner), beijing(until) if until else None])
    referrals = book.sheet("报备", widths=(16, 10, 24, 20, 20, 10, 40, 20))
    referrals.header(["客户", "报备编号", "经纪人", "渠道公司", "报备时间（北京）", "状态", "原因",
                      "保护期至（北京）"])
    for timeline in answer.timelines:
        for ref in timeline.referrals:
            referrals.row([
                ref.phone_masked, ref.referral_id, ref.broker_name or f"#{ref.broker_id}",
                ref.agency_name or "个人推荐人", beijing(ref.submitted_at), ref.state_text,
                f"{ref.reason.text}（{ref.reason.code}）",
                beijing(ref.protection_until) if ref.protection_until else None])
    return book.to_bytes()
