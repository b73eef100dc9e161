"""带看 without a code: the receptionist picks the broker who brought a visitor by hand
(ADR 0030).

The choice is among the live referrals of the visitor's number at the project that this
appliance holds from the down-feed (matched by the site-keyed 3+4 key of the number typed
at the kiosk), in masked form: the broker's surname, phone as 138****5678 and agency. It
works offline. The visit is marked guided (`guide_method` manual) and a
`channel.guide_picked` event follows the visit's own in the registration's transaction.
A pick is weaker evidence than a signed code: it completes no masked number, and the
cloud opens a review case for it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk.guided import Pick
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.guided import ReferralCache
from edge_agent.store.models.reception import Visit
from shared import qr
from shared.errors import ValidationFailed
from shared.events import GUIDE_PICKED, GuidePicked
from shared.phone import normalise_phone
from shared.timeutil import utcnow


class GuideReferralUnknown(ValidationFailed):
    code = "guide_referral_unknown"
    title = "所选经纪人的报备不存在、已失效或不是这位客户的报备，请重新查找带看经纪人"


class GuideWithQr(ValidationFailed):
    code = "guide_with_qr"
    title = "已扫描带看码时不能再手工指定带看经纪人，请二选一"


async def _candidates_tx(session: AsyncSession, settings: EdgeSettings, project_id: int,
                         phone: str) -> list[ReferralCache]:
    key = qr.phone_key(settings.blind_index, phone)
    return list((await session.exec(select(ReferralCache).where(
        ReferralCache.project_id == project_id, ReferralCache.phone_key == key,
        ReferralCache.live(utcnow())).order_by(col(ReferralCache.created_at)))).all())


async def candidates(store: Store, settings: EdgeSettings, *, project_id: int,
                     phone_raw: str) -> list[ReferralCache]:
    """The brokers who may have brought this visitor: live referrals of the number here."""
    return await store.read(_candidates_tx, settings, project_id, normalise_phone(phone_raw))


async def pick_of(session: AsyncSession, settings: EdgeSettings, *, referral_id: int,
                  project_id: int, phone: str, now: datetime) -> Pick:
    """Inside the registration's transaction: the picked referral as this appliance holds
    it, or GuideReferralUnknown (gone meanwhile, another project, another number)."""
    cached = (await session.exec(select(ReferralCache).where(
        ReferralCache.id == referral_id))).first()
    if (cached is None or not cached.is_live(now) or cached.project_id != project_id
            or cached.phone_key != qr.phone_key(settings.blind_index, phone)):
        raise GuideReferralUnknown(extra={"referral_id": referral_id})
    return Pick(referral_id=cached.id, broker_id=cached.broker_id, agency_id=cached.agency_id)


async def use(session: AsyncSession, settings: EdgeSettings, pick: Pick, *, phone: str,
              visit: Visit, tablet: str, edge_state: str | None, edge_reason: str | None,
              now: datetime) -> None:
    """Mark the visit guided by the picked broker and queue its event after the visit's."""
    visit.broker_id, visit.referral_id, visit.source = pick.broker_id, pick.referral_id, "channel"
    visit.guide_method = "manual"
    session.add(visit)
    event = GuidePicked(visit_id=visit.id, project_id=visit.project_id,
                        referral_id=pick.referral_id, broker_id=pick.broker_id, phone=phone,
                        tablet=(tablet or "unknown")[:64], edge_state=edge_state,
                        edge_reason=edge_reason)
    await outbox.append(session, settings.cipher, event_type=GUIDE_PICKED,
                        event_id=uuid.uuid4(), occurred_at=now,
                        payload=event.model_dump(mode="json"), now=now)
