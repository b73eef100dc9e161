"""The channel's scheduled duties: live referrals judged again when the facts move
(cloud.channel.due)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.channel.due import redecide_due
from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings
from shared.timeutil import utcnow


def redecide_due_referrals(session: Session, settings: CloudSettings) -> dict[str, Any]:
    run = redecide_due(session, settings=settings, now=utcnow())
    return {"checked": run.checked, "changed": run.changed, "more": run.more}


register(Job("channel.redecide_due", redecide_due_referrals, every=timedelta(minutes=1),
             description="报备重新判定：窗口到期、客户到访或有效跟进、规则生效后"))
