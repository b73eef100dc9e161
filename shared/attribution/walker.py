"""One walk along a customer's timeline: each fact and each derived expiry moves the state.

Every method that changes a referral goes through _set, so each change carries its reason
code, the events behind it and the rule version, and lands in the current trace step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from shared.attribution.checks import old_owner_refusal, refusal
from shared.attribution.events import (
    ConsultantAssignment,
    DealMilestone,
    Event,
    FollowUp,
    NumberCompletion,
    OldOwnerFact,
    Override,
    PoolRelease,
    QrCheckIn,
    Referral,
    ReferralReview,
    Visit,
)
from shared.attribution.masks import compatible, is_masked
from shared.attribution.outcome import Change, Owner, Reason, ReferralOutcome, ReferralState
from shared.attribution.reasons import ReasonCode
from shared.attribution.rules import DEAL_STAGE_RANK, RuleSet
from shared.attribution.state import Claim, Customer, RefState, derive_owner, earliest_after
from shared.attribution.windows import referral_end
from shared.timeutil import iso, shanghai_date

Step = tuple[datetime, str, str, tuple[Change, ...]]
_Deadline = tuple[datetime, str, str, Callable[[datetime], None]]


class Walker:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.referrals: list[RefState] = []
        self.claim: Claim | None = None
        self.customer = Customer()
        self.known_phone: str | None = None
        self._changes: list[Change] = []

    # -- results -------------------------------------------------------------------
    def owner(self) -> Owner:
        return derive_owner(self.claim, self.customer, self.rules)

    def outcomes(self) -> tuple[ReferralOutcome, ...]:
        return tuple(r.outcome(self._protection_until(r)) for r in self.referrals)

    def _protection_until(self, ref: RefState) -> datetime | None:
        if self.claim is not None and self.claim.referral is ref:
            return self.claim.protection_until(self.customer.deal_rank)
        return ref.window_end

    # -- steps -----------------------------------------------------------------------
    def apply(self, ev: Event) -> tuple[Change, ...]:
        self._changes = []
        if isinstance(ev, Referral):
            self._referral(ev)
        elif isinstance(ev, ReferralReview):
            self._review(ev)
        elif isinstance(ev, Visit):
            self._visit(ev.at, ev.id, ev.broker_id, ev.agency_id, ev.consultant_id)
        elif isinstance(ev, QrCheckIn):
            if ev.phone is not None:
                for ref in self._live():
                    if ref.event.broker_id == ev.broker_id:
                        self._complete(ref, ev.phone, ev.id, ev.at)
            self._visit(ev.at, ev.id, ev.broker_id, ev.agency_id, ev.consultant_id)
        elif isinstance(ev, FollowUp):
            if ev.effective:
                self._contact(ev.at)
        elif isinstance(ev, DealMilestone):
            self._deal(ev)
        elif isinstance(ev, NumberCompletion):
            target = next((r for r in self._live() if r.event.id == ev.referral_id), None)
            if target is not None:
                self._complete(target, ev.phone, ev.id, ev.at)
        elif isinstance(ev, ConsultantAssignment):
            self._assign(ev.consultant_id, ev.at)
        elif isinstance(ev, PoolRelease):
            self._to_pool()
        elif isinstance(ev, OldOwnerFact):
            self.customer.old_owner.add(ev.scope)
        elif isinstance(ev, Override):
            self._override(ev)
        return tuple(self._changes)

    def change_rules(self, rules: RuleSet, at: datetime) -> None:
        """Live windows are recomputed with the new lengths, never ending before `at`;
        what has ended stays ended (no referral changes state here: a window the change
        ends expires as its own step). Mode and confirmation stay as the claim was made."""
        self.rules = rules
        for ref in self._live():
            ref.rules = rules.for_team(ref.event.team)
            if ref.window_end is not None:
                ref.window_end = earliest_after(referral_end(ref.rules, ref.event.at), at)
        if self.claim is not None:
            self.claim.rules = rules.for_team(self.claim.team)
            self.claim.not_before = at
        self.customer.consultant_not_before = at

    def expire_before(self, t: datetime) -> Iterator[Step]:
        """Fire, in time order, every window that ended before t.

        A generator on purpose: the caller reads the owner after each expiry, before the
        next one fires.
        """
        while (due := self._next_deadline()) is not None and due[0] < t:
            when, step_id, kind, action = due
            self._changes = []
            action(when)
            yield when, step_id, kind, tuple(self._changes)

    # -- deadlines -----------------------------------------------------------------
    def _next_deadline(self) -> _Deadline | None:
        due: list[_Deadline] = []
        claim = self.claim
        for ref in self._live():
            if ref.window_end is not None and not (claim and claim.referral is ref
                                                   and claim.stage != "referral"):
                due.append((ref.window_end, f"expiry:{ref.event.id}", "expiry",
                            self._expire(ref, ReasonCode.VISIT_OVERDUE)))
        if claim is not None:
            tag = claim.referral.event.id if claim.referral else claim.evidence[0]
            deal = claim.deal_deadline()
            if deal is not None:
                due.append((deal, f"expiry:{tag}", "expiry",
                            self._end_claim(claim, ReasonCode.DEAL_OVERDUE)))
            lapse = claim.lapse_deadline(self.customer.deal_rank)
            if lapse is not None:
                due.append((lapse, f"lapse:{tag}", "lapse",
                            self._end_claim(claim, ReasonCode.FOLLOW_UP_LAPSED)))
        ends = self.customer.consultant_deadline(self.rules)
        if ends is not None:
            when, why = ends
            due.append((when, f"lapse:consultant:{iso(when)}", "consultant_lapse",
                        lambda _when: self._consultant_ends(why)))
        return min(due, key=lambda d: (d[0], d[1])) if due else None

    def _expire(self, ref: RefState, code: ReasonCode) -> Callable[[datetime], None]:
        return lambda when: self._set(ref, "expired", code, (ref.event.id,), when)

    def _end_claim(self, claim: Claim, code: ReasonCode) -> Callable[[datetime], None]:
        def end(when: datetime) -> None:
            if claim.referral is not None:
                self._set(claim.referral, "expired", code, claim.evidence, when)
            self.claim = None
        return end

    def _consultant_ends(self, why: ReasonCode) -> None:
        customer = self.customer
        customer.consultant_protected = False
        customer.consultant_ended = why
        if self.rules.recycle:
            self._to_pool()

    # -- handlers ------------------------------------------------------------------
    def _referral(self, ev: Referral) -> None:
        rules = self.rules.for_team(ev.team)
        found = refusal(ev, rules, self.referrals, self.claim, self.customer)
        ref = RefState(
            event=ev, rules=rules, mode=rules.attribution_mode,
            confirmation=rules.confirmation, phone=ev.phone, state="pending",
            reason=Reason(ReasonCode.PENDING_CONFIRMATION, (ev.id,), rules.version),
            decided_at=ev.at, accepted=found is None, window_end=None,
            approved=not rules.developer_approval)
        self.referrals.append(ref)
        if found is not None:
            self._set(ref, "invalid", found[0], (ev.id, *found[1]), ev.at)
            return
        ref.window_end = referral_end(rules, ev.at)
        if not is_masked(ev.phone):
            self.known_phone = ev.phone
        if not ref.approved:
            self._set(ref, "pending", ReasonCode.PENDING_APPROVAL, (ev.id,), ev.at)
        else:
            self._accept(ref, (ev.id,), ev.at)

    def _accept(self, ref: RefState, evidence: tuple[str, ...], at: datetime) -> None:
        """An accepted (and, where asked, approved) referral: confirmed at once under
        report_protection + instant, else waiting for its on-site confirmation."""
        e = ref.event
        if ref.mode == "report_protection" and ref.confirmation == "instant":
            self._set(ref, "confirmed", ReasonCode.REFERRAL_PROTECTED, evidence, at)
            self.claim = Claim(
                broker_id=e.broker_id, agency_id=e.agency_id, team=e.team, referral=ref,
                rules=ref.rules, mode=ref.mode, stage="referral", started_at=e.at,
                evidence=evidence)
        else:
            self._set(ref, "pending", ReasonCode.PENDING_CONFIRMATION, evidence, at)

    def _review(self, ev: ReferralReview) -> None:
        ref = next((r for r in self._live() if r.event.id == ev.referral_id), None)
        if ref is None or ref.approved:
            return
        if not ev.approved:
            self._set(ref, "invalid", ReasonCode.REJECTED_BY_DEVELOPER, (ref.event.id, ev.id),
                      ev.at)
            return
        ref.approved = True
        # The window still runs from the submission: a slow review costs the broker time.
        self._accept(ref, (ref.event.id, ev.id), ev.at)

    def _visit(self, at: datetime, visit_id: str, broker_id: str | None,
               agency_id: str | None, consultant_id: str | None) -> None:
        customer = self.customer
        customer.visit_days.add(shanghai_date(at))
        customer.visits.append((at, visit_id))
        if customer.first_visit_id is None:
            customer.first_visit_id = visit_id
        claim = self.claim
        if claim is not None and claim.stage == "referral" and claim.referral is not None:
            # report_protection, instant: the referral protects any visit in its window.
            self._confirm(claim.referral, at, visit_id)
        elif claim is None:
            self._unclaimed_visit(at, visit_id, broker_id, agency_id)
        self._contact(at)
        if customer.consultant_id is None and consultant_id is not None:
            customer.consultant_id = consultant_id
            customer.in_pool = False
        if customer.consultant_id is not None:
            # A visit restarts the owner's protection (reception-and-sales.md).
            self._assign(customer.consultant_id, at)

    def _unclaimed_visit(self, at: datetime, visit_id: str, broker_id: str | None,
                         agency_id: str | None) -> None:
        pending = [r for r in self.referrals if r.state == "pending"]
        mine = next((r for r in pending if r.event.broker_id == broker_id), None)
        if mine is not None:
            self._confirm(mine, at, visit_id)
        elif broker_id is not None and self._brought_first(at):
            # 到访为王: who brings the customer first owns it, referral or not.
            self.claim = Claim(
                broker_id=broker_id, agency_id=agency_id or "", team=None, referral=None,
                rules=self.rules, mode="visit_wins", stage="visit", started_at=at,
                evidence=(visit_id,), visited_at=at, last_contact=at)
        for ref in pending:
            if ref is not mine and ref.state == "pending":
                code = (ReasonCode.ALREADY_VISITED_BY_OTHER if self.claim is not None
                        else ReasonCode.CUSTOMER_VISITED_ALONE)
                self._set(ref, "invalid", code, (ref.event.id, visit_id), at)

    def _brought_first(self, at: datetime) -> bool:
        customer = self.customer
        return (self.rules.attribution_mode == "visit_wins"
                and not (customer.consultant_id is not None and customer.consultant_protected)
                and old_owner_refusal(customer, self.rules) is None)

    def _confirm(self, ref: RefState, at: datetime, visit_id: str) -> None:
        """A visit confirms `ref` unless it came too soon or the number is still masked."""
        rules = ref.rules
        evidence = (ref.event.id, visit_id)
        # A person decided an overridden referral stands: the engine's refusals do not
        # undo that.
        refused = None if ref.overridden else _visit_refusal(ref, at)
        if refused is not None:
            self._set(ref, "invalid", refused, evidence, at)
            return
        e = ref.event
        self.claim = Claim(
            broker_id=e.broker_id, agency_id=e.agency_id, team=e.team, referral=ref,
            rules=rules, mode=ref.mode, stage="visit", started_at=e.at, evidence=evidence,
            visited_at=at, last_contact=at)
        self._set(ref, "confirmed", ReasonCode.VISIT_CONFIRMED, evidence, at)

    def _deal(self, ev: DealMilestone) -> None:
        rank = DEAL_STAGE_RANK[ev.stage]
        self.customer.deal_rank = max(self.customer.deal_rank, rank)
        claim = self.claim
        if claim is None or claim.stage != "visit":
            return
        ref = claim.referral
        # completion_stage "visit" was enforced at the visit; the others bite here.
        if (ref is not None and ref.uncompleted and not ref.overridden
                and rank >= DEAL_STAGE_RANK.get(ref.rules.completion_stage, 0)):
            self._set(ref, "invalid", ReasonCode.COMPLETION_MISSING,
                      (*claim.evidence, ev.id), ev.at)
            return
        if rank >= DEAL_STAGE_RANK[claim.rules.deal_milestone]:
            claim.stage = "deal"
            claim.evidence = (*claim.evidence, ev.id)
            if ref is not None:
                self._set(ref, "confirmed", ReasonCode.DEAL_IN_PROTECTION, claim.evidence, ev.at)

    def _override(self, ev: Override) -> None:
        """A person's decision on one referral. To a live state it puts the referral
        first: every other live referral and any claim end (claim_overridden), so that
        one owner remains; a confirmed one holds the claim — from its first visit since
        the referral if the customer came, else with a referral window from the decision
        — and none of its windows ends before the decision. To invalid or expired it
        ends the referral and the claim it held."""
        ref = next((r for r in self.referrals if r.event.id == ev.referral_id), None)
        if ref is None:
            return
        evidence = (ref.event.id, ev.id)
        code = ReasonCode(ev.code)
        ref.overridden = True
        if ev.state in ("invalid", "expired"):
            self._set(ref, ev.state, code, evidence, ev.at)
            return
        for other in self._live():
            if other is not ref:
                self._set(other, "invalid", ReasonCode.CLAIM_OVERRIDDEN,
                          (other.event.id, ev.id), ev.at)
        self.claim = None
        ref.approved = ref.accepted = True
        ref.window_end = referral_end(ref.rules, ev.at)
        if ev.state == "confirmed":
            self.claim = self._claim_of(ref, evidence, ev.at)
        self._set(ref, ev.state, code, evidence, ev.at)

    def _claim_of(self, ref: RefState, evidence: tuple[str, ...], at: datetime) -> Claim:
        e = ref.event
        visited = next(((t, vid) for t, vid in self.customer.visits if t >= e.at), None)
        claim = Claim(
            broker_id=e.broker_id, agency_id=e.agency_id, team=e.team, referral=ref,
            rules=ref.rules, mode=ref.mode, stage="referral", started_at=e.at,
            evidence=evidence, not_before=at)
        if visited is not None:
            claim.stage, claim.visited_at = "visit", visited[0]
            claim.last_contact = max(visited[0], self.customer.last_contact or visited[0])
            claim.evidence = (e.id, visited[1], *evidence[1:])
            if self.customer.deal_rank >= DEAL_STAGE_RANK[ref.rules.deal_milestone]:
                claim.stage = "deal"
        return claim

    def _complete(self, ref: RefState, phone: str, event_id: str, at: datetime) -> None:
        if not ref.uncompleted:
            return
        # A number that fits the mask but is not this customer's is someone else's.
        if not compatible(ref.phone, phone) or self.known_phone not in (None, phone):
            self._set(ref, "invalid", ReasonCode.MASK_MISMATCH, (ref.event.id, event_id), at)
            return
        ref.phone = phone
        self.known_phone = phone

    def _contact(self, at: datetime) -> None:
        """An effective follow-up or a visit: keeps both the channel's and the
        consultant's claims from lapsing."""
        self.customer.last_contact = at
        if self.claim is not None:
            self.claim.last_contact = at

    def _assign(self, consultant_id: str, at: datetime) -> None:
        customer = self.customer
        customer.consultant_id = consultant_id
        customer.consultant_since = at
        customer.consultant_protected = True
        customer.consultant_not_before = None
        customer.consultant_ended = None
        customer.in_pool = False

    def _to_pool(self) -> None:
        customer = self.customer
        customer.consultant_id = None
        customer.consultant_protected = False
        customer.in_pool = True

    # -- helpers -------------------------------------------------------------------
    def _live(self) -> list[RefState]:
        return [r for r in self.referrals if r.live]

    def _set(self, ref: RefState, state: ReferralState, code: ReasonCode,
             evidence: tuple[str, ...], at: datetime) -> None:
        ref.state = state
        ref.reason = Reason(code, evidence, ref.rules.version)
        ref.decided_at = at
        self._changes.append(Change(ref.event.id, state, ref.reason))
        if state not in ("pending", "confirmed") and self.claim is not None \
                and self.claim.referral is ref:
            self.claim = None


def _visit_refusal(ref: RefState, at: datetime) -> ReasonCode | None:
    """Why a visit does not confirm `ref`: no approval yet, too soon, number masked."""
    if not ref.approved:
        return ReasonCode.NOT_APPROVED
    # visit_wins has no referral protection, so nothing to intercept (防截客).
    if ref.mode != "visit_wins" and at - ref.event.at < ref.rules.lead_time:
        return ReasonCode.LEAD_TIME_NOT_MET
    if ref.uncompleted and ref.rules.completion_stage == "visit":
        return ReasonCode.COMPLETION_MISSING
    return None
