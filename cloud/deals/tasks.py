"""The deals' scheduled duties: approved subscriptions past their contract deadline become
overdue (a manager voids them; nothing is voided or refunded automatically), and drafts
left past their project's age are cancelled so their units return to the market."""

from __future__ import annotations

from datetime import timedelta

from cloud.deals import service
from cloud.jobs.registry import Job, register

register(Job("deals.mark_overdue", service.mark_overdue, every=timedelta(minutes=10),
             description="超过签约期限的认购标记为逾期，等待销售经理作废"))
register(Job("deals.expire_drafts", service.expire_drafts, every=timedelta(hours=1),
             description="超过项目设置天数未提交的交易草稿自动取消，房源回到待售"))
