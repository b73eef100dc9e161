"""The channel's scheduled duties: live referrals judged again when the facts move
(cloud.channel.due), the referral-stage risk checks that do not block and those across
referrals (ADR 0049), the risk checks whose facts arrive after the referral (visits
synced from the edge, follow-ups), prospecting tasks' reminders (prospecting_reminders),
brokers' messages pushed to WeChat (wechat_push) and share events past their retention
deleted (share_retention)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.channel import prospecting_reminders, risk_cases, wechat_push
from cloud.channel.due import redecide_due
from cloud.channel.share_retention import purge_share_events
from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings
from shared.timeutil import utcnow


def redecide_due_referrals(session: Session, settings: CloudSettings) -> dict[str, Any]:
    run = redecide_due(session, settings=settings, now=utcnow())
    return {"checked": run.checked, "changed": run.changed, "more": run.more}


register(Job("channel.redecide_due", redecide_due_referrals, every=timedelta(minutes=1),
             description="报备重新判定：窗口到期、客户到访或有效跟进、规则生效后"))

register(Job(
    name="channel.risk_referral_scan", run=risk_cases.scan_referrals,
    every=timedelta(minutes=1),
    description="对新报备运行报备阶段的风控检查（不拦截的检查、跨经纪人与跨报备的检查），触发即开立复核案件"))

register(Job(
    name="channel.risk_scan", run=risk_cases.scan, every=timedelta(minutes=10),
    description="对近期报备运行到访、分配与确认阶段的风控检查，触发即开立复核案件"))

register(Job(
    name="channel.task_reminders", run=prospecting_reminders.remind,
    every=timedelta(minutes=10),
    description="拓客任务到期前提醒未达标的经纪人，任务结束后把未达标情况告知任务创建人"))

register(Job(
    name="channel.wechat_push", run=wechat_push.push_pending, every=timedelta(minutes=1),
    description="把经纪人的消息以公众号模板消息推送到微信（已关注公众号且配置了模板时）"))

register(Job(
    name="channel.share_events_purge", run=purge_share_events, every=timedelta(hours=1),
    description="删除超过保留期的分享页打开与浏览记录（线索保留）"))
