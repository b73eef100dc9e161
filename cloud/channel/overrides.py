"""Overrides (人工改判): a person's decision replacing the engine's state of a referral —
an upheld appeal, a confirmed risk case that voids an attribution. The engine's own
decision is kept on the override row; the referral shows the override's reason code, and
automatic re-decisions leave an overridden referral alone."""

from __future__ import annotations

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel.appeal_models import ReferralOverride
from cloud.channel.models import Referral
from cloud.identity.deps import Principal
from shared.attribution import REASON_TEXT, ReasonCode
from shared.timeutil import utcnow

# Reason codes of overrides, beside the engine's (docs/channel.md).
OVERRIDE_REASONS: dict[str, str] = {
    "appeal_upheld": "申诉成立，渠道经理已改判",
    "risk_voided": "风控复核确认异常，归属已作废",
    "risk_blocked": "触发风控拦截，报备未被受理，可申诉",
}


def reason_text(code: str) -> str:
    if code in OVERRIDE_REASONS:
        return OVERRIDE_REASONS[code]
    return REASON_TEXT[ReasonCode(code)]


def override(session: Session, *, referral: Referral, state: str, reason_code: str,
             source: str, source_id: int, comment: str, principal: Principal | None,
             decided_by: int) -> ReferralOverride:
    row = ReferralOverride(referral_id=referral.id or 0, state=state,
                           engine_state=referral.state, engine_reason=referral.reason_code,
                           source=source, source_id=source_id, comment=comment,
                           decided_by=decided_by)
    session.add(row)
    before = (referral.state, referral.reason_code)
    referral.state = state
    referral.reason_code = reason_code
    referral.decided_at = utcnow()
    session.add(referral)
    session.flush()
    audit_service.record(
        session, action="channel.referral_override", principal=principal,
        actor=None if principal else "system",
        object_type="channel_referral", object_id=str(referral.id),
        detail={"before": {"state": before[0], "reason": before[1]},
                "after": {"state": state, "reason": reason_code},
                "source": source, "source_id": source_id, "comment": comment,
                "override_id": row.id})
    return row

