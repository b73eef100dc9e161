"""The inventory's scheduled duty: 预留 past its end goes back to 待售."""

from __future__ import annotations

from datetime import timedelta

from cloud.inventory import holds
from cloud.jobs.registry import Job, register

register(Job("inventory.expire_holds", holds.expire, every=timedelta(minutes=1),
             description="预留到期的房源自动恢复为待售，并写销控日志"))
