"""The channel domain's scheduled jobs: the risk checks whose facts arrive after the
referral (visits synced from the edge, follow-ups)."""

from __future__ import annotations

from datetime import timedelta

from cloud.channel import risk_cases
from cloud.jobs.registry import Job, register

register(Job(
    name="channel.risk_scan", run=risk_cases.scan, every=timedelta(minutes=10),
    description="对近期报备运行到访、分配与确认阶段的风控检查，触发即开立复核案件"))
