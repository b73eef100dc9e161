"""The deals' scheduled duty: approved subscriptions past their contract deadline become
overdue (a manager voids them; nothing is voided or refunded automatically)."""

from __future__ import annotations

from datetime import timedelta

from cloud.deals import service
from cloud.jobs.registry import Job, register

register(Job("deals.mark_overdue", service.mark_overdue, every=timedelta(minutes=10),
             description="超过签约期限的认购标记为逾期，等待销售经理作废"))
