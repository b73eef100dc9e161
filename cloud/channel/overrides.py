"""Overrides (人工改判): a person's decision replacing the engine's state of a referral —
an upheld appeal, a confirmed risk case that voids an attribution, a risk check that
blocks a referral. The engine's own decision is kept on the override row.

The engine reads each override as a fact (shared.attribution.Override): the overridden
referral keeps the person's state, a later referral or visit of the customer is judged
after it, and an override that gives a referral the claim ends the other live referrals
of the customer (claim_overridden) — those are judged again at once, here.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import feed_items
from cloud.channel.appeal_models import ReferralOverride
from cloud.channel.models import Referral
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared.attribution import REASON_TEXT, ReasonCode
from shared.timeutil import utcnow

# The override codes, beside the engine's (docs/channel.md).
OVERRIDE_CODES = (ReasonCode.APPEAL_UPHELD, ReasonCode.RISK_VOIDED, ReasonCode.RISK_BLOCKED)


def reason_text(code: str) -> str:
    return REASON_TEXT[ReasonCode(code)]


def override(session: Session, *, settings: CloudSettings, referral: Referral, state: str,
             reason_code: str, source: str, source_id: int, comment: str,
             principal: Principal | None, decided_by: int) -> ReferralOverride:
    now = utcnow()
    row = ReferralOverride(referral_id=referral.id or 0, state=state, reason_code=reason_code,
                           engine_state=referral.state, engine_reason=referral.reason_code,
                           source=source, source_id=source_id, comment=comment,
                           decided_by=decided_by, created_at=now)
    session.add(row)
    before = (referral.state, referral.reason_code)
    referral.state = state
    referral.reason_code = reason_code
    referral.decided_at = now
    session.add(referral)
    session.flush()
    _follow(session, settings, referral)
    feed_items.announce_referrals(session, settings, [referral])
    audit_service.record(
        session, action="channel.referral_override", principal=principal,
        actor=None if principal else "system",
        object_type="channel_referral", object_id=str(referral.id),
        detail={"before": {"state": before[0], "reason": before[1]},
                "after": {"state": state, "reason": reason_code},
                "source": source, "source_id": source_id, "comment": comment,
                "override_id": row.id})
    return row


def _follow(session: Session, settings: CloudSettings, referral: Referral) -> None:
    """The engine's answer with the override read as a fact: the overridden referral's
    window (a confirmed one gets a referral window from the decision), and the other
    live referrals of the customer judged again."""
    # Imported here: redecide → referrals → risk_cases → this module.
    from cloud.channel import redecide, referrals

    assert referral.id is not None
    outcome = referrals.decide(session, settings=settings, row=referral, as_of=referral.decided_at)
    if (outcome.state, outcome.reason.code.value) == (referral.state, referral.reason_code):
        referral.protection_until = outcome.protection_until
        referral.evidence = [e for e in outcome.reason.evidence
                             if e != f"referral:{referral.id}"]
        referral.rule_version = outcome.reason.rule_version
        session.add(referral)
    for other in session.exec(select(Referral).where(
            Referral.project_id == referral.project_id, col(Referral.id) != referral.id,
            col(Referral.state).in_(referrals.LIVE_STATES), _same_number(referral))
            .order_by(col(Referral.id))).all():
        redecide.redecide(session, settings=settings, row=other, as_of=referral.decided_at)


def _same_number(referral: Referral) -> ColumnElement[bool]:
    keys: list[ColumnElement[bool]] = []
    if referral.phone34_bidx:
        keys.append(col(Referral.phone34_bidx) == referral.phone34_bidx)
    if referral.phone7_bidx:
        keys.append(col(Referral.phone7_bidx) == referral.phone7_bidx)
    return or_(*keys) if keys else col(Referral.id).is_(None)
