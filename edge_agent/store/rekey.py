"""Re-indexing after the site key changed (`anchang site rotate-credentials`).

Phone blind indexes on the appliance are keyed with the site key, so the cloud can send
its customer cache without sharing a global secret. A new key makes every stored index
unfindable: at start the agent compares the key's fingerprint with the one it indexed
under and, if it changed, recomputes the visits' (and calls') indexes from their encrypted phones,
drops the customer cache and restarts the down-feed (the cloud answers with a resync).
"""

from __future__ import annotations

import hashlib
import hmac

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk.service import PHONE_CONTEXT
from edge_agent.settings import EdgeSettings
from edge_agent.store.models.customers import CustomerCache, FollowUp, IncomingCall, is_erased
from edge_agent.store.models.reception import Visit
from edge_agent.store.outbox import get_state


def key_fingerprint(key: bytes) -> str:
    return hmac.new(key, b"anchang/site-key-fingerprint", hashlib.sha256).hexdigest()


async def ensure_site_key(session: AsyncSession, settings: EdgeSettings) -> int:
    """Returns how many visits were re-indexed (0 when the key is the one in use)."""
    state = await get_state(session)
    fingerprint = key_fingerprint(settings.site_key_bytes)
    if state.key_fingerprint == fingerprint:
        return 0
    first_start = state.key_fingerprint is None
    state.key_fingerprint = fingerprint
    session.add(state)
    if first_start:
        return 0
    by_visit: dict[str, str] = {}
    for visit in (await session.exec(select(Visit))).all():
        if is_erased(visit.phone_bidx):
            continue  # an erased customer's visit keeps its tombstone: no phone to index
        phone = settings.cipher.decrypt(visit.phone_enc, context=PHONE_CONTEXT)
        visit.phone_bidx = settings.blind_index.phone(phone)
        by_visit[str(visit.id)] = visit.phone_bidx
        session.add(visit)
    for follow_up in (await session.exec(
            select(FollowUp).where(col(FollowUp.visit_id).is_not(None)))).all():
        if str(follow_up.visit_id) in by_visit:
            follow_up.phone_bidx = by_visit[str(follow_up.visit_id)]
            session.add(follow_up)
    for call in (await session.exec(select(IncomingCall))).all():
        if not is_erased(call.phone_bidx):
            call.phone_bidx = settings.blind_index.phone(
                settings.cipher.decrypt(call.phone_enc, context=PHONE_CONTEXT))
            session.add(call)
    for cached in (await session.exec(select(CustomerCache))).all():
        await session.delete(cached)
    state.down_cursor = 0
    return len(by_visit)
