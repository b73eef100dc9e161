"""Edge sessions follow the cloud's: a token on the revocation list is refused, and one
not used for a user action within `staff_idle_minutes` ends (等保: idle timeout 30 min),
offline too. Background requests (shared.activity) are admitted without counting."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import and_, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.store import Store
from edge_agent.store.models.site import StaffActivity, TokenRevocation
from shared.edge_token import EdgeClaims
from shared.errors import Unauthorized

# A user action moves the last activity at most this often, to keep reads from writing.
TOUCH_INTERVAL = timedelta(seconds=60)


class StaffTokenRevoked(Unauthorized):
    code = "staff_token_revoked"
    title = "您已在云端退出登录、修改密码或账号已停用，请重新登录"


class StaffSessionIdle(Unauthorized):
    code = "staff_session_idle"
    title = "长时间未操作，登录已超时，请重新登录"


async def _state(session: AsyncSession, claims: EdgeClaims) -> tuple[bool, datetime | None]:
    """(revoked, last user action or None when the token is new here)."""
    conditions = [and_(col(TokenRevocation.key) == f"user:{claims.user_id}",
                       col(TokenRevocation.revoked_at) >= claims.issued_at)]
    if claims.session_id:
        conditions.append(col(TokenRevocation.key) == f"session:{claims.session_id}")
    revoked = (await session.exec(select(TokenRevocation.key).where(or_(*conditions)))).first()
    activity = await session.get(StaffActivity, claims.token_id)
    return revoked is not None, activity.last_active_at if activity else None


async def _touch(session: AsyncSession, claims: EdgeClaims, now: datetime) -> None:
    stmt = insert(StaffActivity).values(token_id=claims.token_id, user_id=claims.user_id,
                                        last_active_at=now, expires_at=claims.expires_at)
    await session.exec(stmt.on_conflict_do_update(
        index_elements=["token_id"], set_={"last_active_at": now}))
    await session.exec(delete(StaffActivity).where(col(StaffActivity.expires_at) < now))


async def admit(
    store: Store, claims: EdgeClaims, *, idle: timedelta, background: bool, now: datetime
) -> None:
    """Raise StaffTokenRevoked / StaffSessionIdle, else record a user action."""
    revoked, last_active = await store.read(_state, claims)
    if revoked:
        raise StaffTokenRevoked()
    if last_active is not None and now - last_active > idle:
        raise StaffSessionIdle(f"超过 {int(idle.total_seconds() // 60)} 分钟未操作，"
                               "登录已超时，请重新登录")
    # A token seen for the first time starts its clock even on a background request.
    if last_active is None or (not background and now - last_active > TOUCH_INTERVAL):
        await store.write(_touch, claims, now)
