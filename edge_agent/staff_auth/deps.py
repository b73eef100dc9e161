"""The consultant's identity on the edge: `Authorization: Bearer <edge token>`.

The token is checked with this site's key (shared.edge_token) — no cloud needed — the
user must be active in the roster the cloud feeds down, and the token neither revoked nor
idle (edge_agent.staff_auth.sessions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk.deps import SettingsDep, StoreDep
from edge_agent.staff_auth import sessions
from edge_agent.staff_auth.cloud import CloudClient, CloudNotConfigured
from edge_agent.store.models.site import Consultant
from shared import edge_token
from shared.activity import is_background
from shared.errors import Forbidden, Unauthorized
from shared.timeutil import utcnow

_bearer = HTTPBearer(auto_error=False, description="顾问登录返回的 edge_token")


class StaffTokenInvalid(Unauthorized):
    code = "staff_token_invalid"
    title = "登录已失效，请重新登录"


class NotOnRoster(Forbidden):
    code = "not_on_roster"
    title = "您不在本案场的人员名单中，或账号已停用（名单从云端同步，可能稍有延迟）"


@dataclass(frozen=True)
class StaffUser:
    id: int
    name: str
    roles: tuple[str, ...]


async def roster_member(session: AsyncSession, user_id: int) -> Consultant | None:
    """The user's roster entry when active; None otherwise."""
    member = await session.get(Consultant, user_id)
    return member if member is not None and member.active else None


async def require_staff(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StaffUser:
    if credentials is None:
        raise StaffTokenInvalid()
    try:
        claims = edge_token.verify(
            settings.site_key_bytes, credentials.credentials, site_id=settings.site_id)
    except edge_token.EdgeTokenInvalid as exc:
        raise StaffTokenInvalid() from exc
    member = await store.read(roster_member, claims.user_id)
    if member is None:
        raise NotOnRoster()
    await sessions.admit(store, claims, idle=timedelta(minutes=settings.staff_idle_minutes),
                         background=is_background(request), now=utcnow())
    return StaffUser(id=member.id, name=member.name, roles=claims.roles)


StaffDep = Annotated[StaffUser, Depends(require_staff)]


def get_cloud(settings: SettingsDep) -> CloudClient:
    """The cloud the login goes through (tests override it with a fake transport)."""
    if not settings.cloud_url:
        raise CloudNotConfigured()
    return CloudClient(settings.cloud_url, timeout=settings.cloud_timeout_seconds)


CloudDep = Annotated[CloudClient, Depends(get_cloud)]
