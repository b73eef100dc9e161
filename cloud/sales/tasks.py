"""The sales domain's scheduled duty: the ownership sweep (follow-up warnings, 逾期, the
public pool)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.jobs.registry import Job, register
from cloud.sales import ownership
from cloud.settings import CloudSettings
from cloud.sync import feed


def ownership_sweep(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The sweep, then each released customer's new state on its site's down-feed (the
    appliance routes a returning customer to the owner it knows)."""
    run = ownership.sweep(session)
    for customer in run.released:
        feed.announce_customer(session, settings, customer)
    return run.summary()


register(Job("sales.ownership_sweep", ownership_sweep, every=timedelta(minutes=10),
             description="客户归属：跟进到期前提醒顾问，逾期客户转逾期并释放到公客池"))
