"""Reception facts of a registration beyond the visit itself: stand-in reception for an
absent owner (义务接待), forgotten-name claims, the rota turn, the profile event.

Runs inside the registration's transaction, after the visit row is flushed, so the
`visit.profiled` event follows `visit.registered` in the outbox.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota import queue
from edge_agent.rota import service as rota_service
from edge_agent.rota.queue import Rota
from edge_agent.store import outbox
from edge_agent.store.models.reception import FIRST_VISIT, RotaDuty, Visit
from shared.reception_events import VISIT_PROFILED, VisitProfile, VisitProfiled


async def owner_absent(session: AsyncSession, owner_id: int, day: str) -> bool:
    """The owner cannot receive now: not on duty today, or away."""
    duty = await session.get(RotaDuty, (day, owner_id))
    return duty is None or not duty.on_duty or duty.away_reason is not None


async def mark_stand_in(session: AsyncSession, rota: Rota, visit: Visit, now: datetime) -> None:
    """义务接待: a return customer whose owner is absent, received by another consultant.
    The customer stays the owner's; the owner is told (a rota event naming them); the
    stand-in keeps their turn, and has `stand_in_share` % of a deal closed that day."""
    owner, receiver = visit.owner_id, visit.consultant_id
    if (visit.classification == FIRST_VISIT or owner is None or receiver is None
            or owner == receiver or not await owner_absent(session, owner, visit.visit_date)):
        return
    visit.stand_in_for, visit.stand_in_share = owner, rota.rules.stand_in_share_percent
    session.add(visit)
    await queue.record(
        session, rota, day=visit.visit_date, now=now, consultant_id=owner, action="stand_in",
        actor=rota_service.VISIT_ACTOR,
        reason=f"客户 {visit.phone_masked} 到访，归属顾问不在，由他人义务接待，客户仍归属本人",
        before=None, visit_id=visit.id,
        detail={"stand_in": receiver, "share_percent": visit.stand_in_share})


def claim_window(rota: Rota, visit: Visit, forgot_consultant: bool) -> None:
    """“来过但忘了顾问”: received in turn, claimable by the earlier consultant for N days."""
    if forgot_consultant and visit.classification == FIRST_VISIT:
        last = date.fromisoformat(visit.visit_date) + timedelta(days=rota.rules.claim_days)
        visit.claimable_until = last.isoformat()


async def append_profile(session: AsyncSession, rota: Rota, visit: Visit,
                         profile: VisitProfile, now: datetime, *,
                         corrected_by: int | None = None, reason: str | None = None) -> None:
    """The visit's `visit.profiled` event: its profile and reception facts (revision 0 at
    registration, then one per correction)."""
    event = VisitProfiled(
        visit_id=visit.id, project_id=visit.project_id, revision=visit.profile_revision,
        profile=profile, party_size=visit.party_size, source=visit.source,
        consumed_turn=visit.consumed_turn, stand_in_for=visit.stand_in_for,
        stand_in_share=visit.stand_in_share,
        claimable_until=date.fromisoformat(visit.claimable_until)
        if visit.claimable_until else None,
        corrected_by=corrected_by, reason=reason)
    await outbox.append(session, rota.settings.cipher, event_type=VISIT_PROFILED,
                        event_id=uuid.uuid4(), occurred_at=now,
                        payload=event.model_dump(mode="json"), now=now)


async def after_registration(session: AsyncSession, visit: Visit, profile: VisitProfile,
                             forgot_consultant: bool, rota: Rota, now: datetime) -> None:
    await mark_stand_in(session, rota, visit, now)
    claim_window(rota, visit, forgot_consultant)
    visit.consumed_turn = await rota_service.consume_turn(session, rota, visit, now)
    visit.profile = profile.model_dump(mode="json", exclude_none=True)
    session.add(visit)
    await session.flush()
    # Nothing to add to `visit.registered` (the turn is in the rota's own events): no
    # event, so a bare registration stays one event, as older clouds expect.
    if visit.profile or visit.stand_in_for is not None or visit.claimable_until:
        await append_profile(session, rota, visit, profile, now)
