"""What the engine answers: the owner, each referral's state, and the trace behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.attribution.reasons import REASON_TEXT, ReasonCode

ReferralState = Literal["pending", "confirmed", "invalid", "expired"]
OwnerKind = Literal["channel", "natural", "none"]
# referral: inside the referral window; visit: a confirmed visit, waiting for the deal;
# deal: the deal milestone fell inside protection, the claim no longer expires.
ClaimStage = Literal["referral", "visit", "deal"]


@dataclass(frozen=True)
class Reason:
    """Why: a stable code, its Chinese text, the events that decided and the rule version."""

    code: ReasonCode
    evidence: tuple[str, ...]
    rule_version: int

    @property
    def text(self) -> str:
        return REASON_TEXT[self.code]


@dataclass(frozen=True)
class Owner:
    """Who owns the customer: a channel (broker), the office (natural visitor), or no one.

    consultant_id is the sales-side owner, separate from the channel's claim.
    """

    kind: OwnerKind
    reason: Reason
    broker_id: str | None = None
    agency_id: str | None = None
    referral_id: str | None = None
    stage: ClaimStage | None = None
    # End of the channel's current window (None: no window, or locked by the deal).
    protection_until: datetime | None = None
    warn_at: datetime | None = None
    consultant_id: str | None = None
    consultant_protection_until: datetime | None = None
    in_public_pool: bool = False


@dataclass(frozen=True)
class ReferralOutcome:
    referral_id: str
    broker_id: str
    agency_id: str
    phone: str  # as shown: masked
    state: ReferralState
    reason: Reason
    submitted_at: datetime
    decided_at: datetime
    # Until when the referral protects the customer (pending or confirmed ones).
    protection_until: datetime | None


@dataclass(frozen=True)
class Change:
    referral_id: str
    state: ReferralState
    reason: Reason


@dataclass(frozen=True)
class TraceStep:
    """The decision after one step: an event, a rule change, or a derived expiry."""

    at: datetime
    step_id: str  # the event id; "rules:v2" for a rule change; "expiry:…" for derived ones
    kind: str
    changes: tuple[Change, ...]
    owner: Owner


@dataclass(frozen=True)
class Decision:
    as_of: datetime
    rule_version: int
    owner: Owner
    referrals: tuple[ReferralOutcome, ...]
    trace: tuple[TraceStep, ...]
    visit_count: int

    def referral(self, referral_id: str) -> ReferralOutcome:
        for outcome in self.referrals:
            if outcome.referral_id == referral_id:
                return outcome
        raise KeyError(referral_id)
