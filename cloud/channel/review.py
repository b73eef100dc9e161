"""The developer's review of referrals (报备审核): where a project's rules ask for it
(`developer_approval`), a referral protects nobody until the developer's channel staff
approve it; a rejection invalidates it (`rejected_by_developer`). One review per
referral, stored as a fact the engine reads, audited with the reviewer's comment.
"""

from __future__ import annotations

from sqlmodel import Session, select

from cloud.audit import service as audit_service
from cloud.channel import history, referrals
from cloud.channel.errors import ReviewCommentRequired, ReviewNotDue
from cloud.channel.models import Referral, ReferralReview
from cloud.channel.redecide import redecide
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared.attribution import ReasonCode
from shared.timeutil import utcnow


def review(session: Session, *, principal: Principal, settings: CloudSettings,
           referral_id: int, approved: bool, comment: str) -> Referral:
    row = referrals.get(session, principal=principal, referral_id=referral_id)
    if not approved and not comment.strip():
        raise ReviewCommentRequired()
    number = history.number_of(settings, history.phone_of(settings, row))
    history.lock(session, *history.lock_keys(row.project_id, number))
    session.refresh(row)
    already = session.exec(select(ReferralReview).where(
        ReferralReview.referral_id == referral_id)).first()
    if already is not None or row.reason_code != ReasonCode.PENDING_APPROVAL.value:
        raise ReviewNotDue()
    now = utcnow()
    session.add(ReferralReview(referral_id=referral_id, approved=approved,
                               comment=comment.strip(), reviewer_id=principal.user_id,
                               created_at=now))
    session.flush()
    redecide(session, settings=settings, row=row, as_of=now)
    audit_service.record(
        session, action="channel.referral_review", principal=principal,
        object_type="channel_referral", object_id=str(referral_id),
        detail={"approved": approved, "comment": comment.strip(), "state": row.state,
                "reason": row.reason_code})
    return row
