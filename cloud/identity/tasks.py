"""Identity's scheduled duties: accounts unused for `inactive_disable_days` (90) are
disabled (等保: 90 days inactive → disabled), their sessions and edge tokens ended."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from cloud.identity import edge_revocation
from cloud.identity import service as identity_service
from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings


def disable_inactive_accounts(session: Session, settings: CloudSettings) -> dict[str, Any]:
    disabled = identity_service.disable_inactive(session, days=settings.inactive_disable_days)
    for user_id in disabled:
        edge_revocation.revoke_user(session, user_id=user_id, reason="inactive")
    return {"disabled": len(disabled)}


register(Job("identity.disable_inactive", disable_inactive_accounts, every=timedelta(days=1),
             description="停用长期未登录的账号"))
