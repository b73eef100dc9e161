"""Which live referrals must be judged again, and judging them: a window that ended, a
visit or an effective follow-up of the customer since the last judgement, a rule version
that took effect since. Run by the scheduled job `channel.redecide_due` every minute, so
a referral follows the facts within a minute of their arrival by sync.

A referral's `decided_at` is the last time the engine judged it; a judgement that
changes nothing still moves it, so the same facts never make a referral due twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_
from sqlmodel import Session, col, select

from cloud.channel.models import Referral, RuleVersion
from cloud.channel.redecide import redecide
from cloud.channel.referrals import LIVE_STATES
from cloud.sales.models import Customer
from cloud.settings import CloudSettings

BATCH = 500  # per run; the oldest judgements first, the rest in the next run


@dataclass(frozen=True)
class DueRun:
    checked: int
    changed: int
    more: bool  # the batch was full: more referrals are due


def due_referrals(session: Session, now: datetime, limit: int = BATCH) -> list[Referral]:
    window_ended = and_(col(Referral.protection_until) <= now,
                        col(Referral.decided_at) < col(Referral.protection_until))
    # The customer the number names: the full number's blind index, or a mask's 3+4 key.
    same_customer = and_(
        col(Customer.project_id) == col(Referral.project_id),
        or_(and_(col(Referral.phone_bidx).is_not(None),
                 col(Customer.phone_bidx) == col(Referral.phone_bidx)),
            and_(col(Referral.phone_bidx).is_(None),
                 col(Customer.phone34_bidx) == col(Referral.phone34_bidx))))
    customer_moved = exists().where(
        same_customer,
        or_(col(Customer.last_visit_at) > col(Referral.decided_at),
            col(Customer.last_effective_at) > col(Referral.decided_at)))
    rules_changed = exists().where(
        col(RuleVersion.project_id) == col(Referral.project_id),
        col(RuleVersion.effective_from) > col(Referral.decided_at),
        col(RuleVersion.effective_from) <= now)
    return list(session.exec(
        select(Referral)
        .where(col(Referral.state).in_(LIVE_STATES),
               or_(window_ended, customer_moved, rules_changed))
        .order_by(col(Referral.decided_at), col(Referral.id))
        .limit(limit)).all())


def redecide_due(session: Session, *, settings: CloudSettings, now: datetime,
                 limit: int = BATCH) -> DueRun:
    due = due_referrals(session, now, limit)
    changed = 0
    for row in due:
        if redecide(session, settings=settings, row=row, as_of=now):
            changed += 1
        else:
            row.decided_at = now
            session.add(row)
    return DueRun(checked=len(due), changed=changed, more=len(due) == limit)
