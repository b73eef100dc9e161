"""Re-deciding live referrals (重新判定): after facts arrive that the submission could not
know — a visit sooner than the lead time, a window that ran out. Each change is stored
with its reason and rule version, and audited.

Run per project by `anchang channel redecide`, and for the referrals whose facts moved
by the scheduled job of cloud.channel.due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import feed_items, history
from cloud.channel.models import Referral
from cloud.channel.referrals import LIVE_STATES, apply_outcome, decide
from cloud.settings import CloudSettings
from shared.timeutil import iso


@dataclass(frozen=True)
class Redecided:
    checked: int
    changed: int


def redecide(session: Session, *, settings: CloudSettings, row: Referral,
             as_of: datetime) -> bool:
    """Decide `row` again as of `as_of`; True when its state, reason or window changed."""
    number = history.number_of(settings, history.phone_of(settings, row))
    history.lock(session, *history.lock_keys(row.project_id, number))
    outcome = decide(session, settings=settings, row=row, as_of=as_of)
    before = (row.state, row.reason_code, row.protection_until)
    if (outcome.state, outcome.reason.code.value, outcome.protection_until) == before:
        return False
    apply_outcome(row, outcome, as_of)
    feed_items.announce_referrals(session, settings, [row])
    audit_service.record(
        session, action="channel.referral_redecide", actor="system",
        object_type="channel_referral", object_id=str(row.id),
        detail={"before": {"state": before[0], "reason": before[1],
                           "protection_until": before[2] and iso(before[2])},
                "after": {"state": row.state, "reason": row.reason_code,
                          "protection_until": row.protection_until
                          and iso(row.protection_until)},
                "rule_version": row.rule_version})
    return True


def redecide_project(session: Session, *, settings: CloudSettings, project_id: int,
                     as_of: datetime) -> Redecided:
    # Overridden referrals too: the engine reads the person's decision as a fact, so
    # judging again keeps it and only follows what came after (its window, a visit).
    live = session.exec(select(Referral).where(
        Referral.project_id == project_id, col(Referral.state).in_(LIVE_STATES))
        .order_by(col(Referral.id))).all()
    changed = sum(redecide(session, settings=settings, row=row, as_of=as_of) for row in live)
    return Redecided(checked=len(live), changed=changed)
