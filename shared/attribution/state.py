"""The engine's working state for one customer while it walks the timeline (mutable,
private to one decide() call) and the owner it implies."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from shared.attribution.events import Referral
from shared.attribution.masks import display, is_masked
from shared.attribution.outcome import (
    ClaimStage,
    Owner,
    Reason,
    ReferralOutcome,
    ReferralState,
)
from shared.attribution.reasons import ReasonCode
from shared.attribution.rules import DEAL_STAGE_RANK, AttributionMode, Confirmation, RuleSet
from shared.attribution.windows import deal_end, earliest, lapse_end

LIVE: frozenset[ReferralState] = frozenset({"pending", "confirmed"})


@dataclass
class RefState:
    event: Referral
    # The rules that govern it now: its team's, of the version in force (rule changes
    # move live referrals to the new version); mode and confirmation stay as submitted.
    rules: RuleSet
    mode: AttributionMode
    confirmation: Confirmation
    phone: str
    state: ReferralState
    reason: Reason
    decided_at: datetime
    accepted: bool
    window_end: datetime | None
    # False while a developer's review the rules ask for is outstanding.
    approved: bool
    # A person decided its state (an Override): the engine's checks at a later visit
    # (lead time, approval, completion) no longer refuse it; its windows still run.
    overridden: bool = False

    @property
    def live(self) -> bool:
        return self.state in LIVE

    @property
    def uncompleted(self) -> bool:
        return is_masked(self.phone)

    def outcome(self, protection_until: datetime | None) -> ReferralOutcome:
        e = self.event
        return ReferralOutcome(
            referral_id=e.id, broker_id=e.broker_id, agency_id=e.agency_id,
            phone=display(self.phone), state=self.state, reason=self.reason,
            submitted_at=e.at, decided_at=self.decided_at,
            protection_until=protection_until if self.live else None)


@dataclass
class Claim:
    """The channel's hold on the customer (at most one at a time)."""

    broker_id: str
    agency_id: str
    team: str | None
    referral: RefState | None  # None: a visit_wins guided visit without a referral
    rules: RuleSet
    mode: AttributionMode
    stage: ClaimStage
    started_at: datetime  # the referral's time; the visit's for a referral-less claim
    evidence: tuple[str, ...]
    visited_at: datetime | None = None
    last_contact: datetime | None = None
    # After a rule change no window of this claim ends before the change.
    not_before: datetime | None = None

    def deal_deadline(self) -> datetime | None:
        if self.stage != "visit" or self.visited_at is None:
            return None
        # One-stage: a rule change may have shortened the window to before the visit
        # that came inside it; it then ends at the visit, never before it.
        floor = max(self.visited_at, self.not_before or self.visited_at)
        return earliest_after(deal_end(self.rules, self.started_at, self.visited_at), floor)

    def lapse_deadline(self, deal_rank: int) -> datetime | None:
        # Customers at 认筹 or later never lapse (reception-and-sales.md).
        if self.stage != "visit" or self.last_contact is None or deal_rank >= 1:
            return None
        end = lapse_end(self.rules, self.last_contact)
        return None if end is None else earliest_after(end, self.not_before)

    def protection_until(self, deal_rank: int) -> datetime | None:
        if self.stage == "referral":
            return self.referral.window_end if self.referral else None
        return earliest(self.deal_deadline(), self.lapse_deadline(deal_rank))


@dataclass
class Customer:
    visit_days: set[date] = field(default_factory=set)
    visits: list[tuple[datetime, str]] = field(default_factory=list)
    first_visit_id: str | None = None
    consultant_id: str | None = None
    consultant_since: datetime | None = None
    consultant_protected: bool = False
    consultant_not_before: datetime | None = None
    # Why the consultant's protection last ended: lapse, or its length.
    consultant_ended: ReasonCode | None = None
    last_contact: datetime | None = None
    in_pool: bool = False
    old_owner: set[str] = field(default_factory=set)
    deal_rank: int = 0

    def consultant_deadline(self, rules: RuleSet) -> tuple[datetime, ReasonCode] | None:
        """When the consultant's protection ends, and why (lapse or its 30 days)."""
        if not self.consultant_protected or self.consultant_since is None:
            return None
        if self.deal_rank >= DEAL_STAGE_RANK["pledge"]:
            return None
        ends = earliest_after(self.consultant_since + rules.consultant_protection,
                              self.consultant_not_before)
        reason = ReasonCode.CONSULTANT_PROTECTION_ENDED
        contact = max(self.consultant_since, self.last_contact or self.consultant_since)
        lapse = lapse_end(rules, contact)
        if lapse is not None:
            lapse = earliest_after(lapse, self.consultant_not_before)
            if lapse < ends:
                ends, reason = lapse, ReasonCode.FOLLOW_UP_LAPSED
        return ends, reason


def earliest_after(value: datetime, floor: datetime | None) -> datetime:
    """A recomputed window never ends before the rule change that recomputed it."""
    return value if floor is None or value >= floor else floor


def derive_owner(claim: Claim | None, customer: Customer, rules: RuleSet) -> Owner:
    deadline = customer.consultant_deadline(rules)
    return replace(
        _core_owner(claim, customer, rules),
        consultant_id=customer.consultant_id,
        consultant_protection_until=deadline[0] if deadline else None,
        in_public_pool=customer.in_pool,
    )


def _core_owner(claim: Claim | None, customer: Customer, rules: RuleSet) -> Owner:
    if claim is not None:
        until = claim.protection_until(customer.deal_rank)
        code = {"referral": ReasonCode.REFERRAL_PROTECTED, "visit": ReasonCode.VISIT_CONFIRMED,
                "deal": ReasonCode.DEAL_IN_PROTECTION}[claim.stage]
        return Owner(
            kind="channel", reason=Reason(code, claim.evidence, claim.rules.version),
            broker_id=claim.broker_id, agency_id=claim.agency_id,
            referral_id=claim.referral.event.id if claim.referral else None,
            stage=claim.stage, protection_until=until,
            warn_at=_warn_at(claim, until, customer.deal_rank))
    if not customer.visit_days:
        return Owner(kind="none", reason=Reason(ReasonCode.NO_OWNER, (), rules.version))
    evidence = (customer.first_visit_id,) if customer.first_visit_id else ()
    if customer.in_pool:
        code = ReasonCode.PUBLIC_POOL
    elif customer.consultant_id is not None and customer.consultant_ended is not None:
        code = customer.consultant_ended
    else:
        code = ReasonCode.NATURAL_VISIT
    return Owner(kind="natural", reason=Reason(code, evidence, rules.version))


def _warn_at(claim: Claim, until: datetime | None, deal_rank: int) -> datetime | None:
    if until is None:
        return None
    warnings = claim.rules.warnings
    if claim.stage == "referral":
        lead = warnings.referral
    elif until == claim.lapse_deadline(deal_rank):
        lead = warnings.follow_up
    else:
        lead = warnings.visit
    return max(until - lead, claim.started_at) if lead > timedelta(0) else until
