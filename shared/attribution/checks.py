"""Why a new referral is refused (domain/channel-rules.md), in the order a broker is told."""

from __future__ import annotations

from shared.attribution.events import Referral
from shared.attribution.masks import is_masked, satisfies
from shared.attribution.reasons import ReasonCode
from shared.attribution.rules import RuleSet
from shared.attribution.state import Claim, Customer, RefState

# "王先生" is a surname with a title, not a full name.
_TITLES = ("先生", "女士", "小姐")
# Refusals that say something about another party's claim on this number: a masked
# number cannot prove it is the same person, so the broker is told 疑似重号 instead
# (and completes the number to learn more) rather than learning who holds it.
_COLLISIONS = frozenset({
    ReasonCode.GROUP_OLD_OWNER, ReasonCode.PROJECT_OLD_OWNER,
    ReasonCode.EXISTING_CUSTOMER_WITH_CONSULTANT, ReasonCode.ALREADY_REFERRED_BY_OTHER,
    ReasonCode.ALREADY_VISITED_BY_OTHER, ReasonCode.IN_PROTECTION,
    ReasonCode.OTHER_MODE_CUSTOMER,
})

Refusal = tuple[ReasonCode, tuple[str, ...]]


def refusal(
    ev: Referral, rules: RuleSet, referrals: list[RefState], claim: Claim | None,
    customer: Customer,
) -> Refusal | None:
    """The reason `ev` is refused and the ids of the events that make it so, or None."""
    found = _own_checks(ev, rules) or _collision(ev, rules, referrals, claim, customer)
    if found is None:
        return _re_referral(rules, referrals)
    code, evidence = found
    if code in _COLLISIONS and (is_masked(ev.phone) or _masked_party(evidence, referrals)):
        return ReasonCode.SUSPECTED_DUPLICATE, evidence
    return found


def _own_checks(ev: Referral, rules: RuleSet) -> Refusal | None:
    if not satisfies(ev.phone, rules.phone_policy):
        return ReasonCode.PHONE_POLICY_VIOLATION, ()
    name = ev.name.strip()
    if not name or (rules.name_policy == "full" and (len(name) < 2 or name.endswith(_TITLES))):
        return ReasonCode.NAME_POLICY_VIOLATION, ()
    if rules.live_referral_cap is not None and ev.broker_live_referrals >= rules.live_referral_cap:
        return ReasonCode.LIVE_REFERRAL_CAP, ()
    return None


def _collision(
    ev: Referral, rules: RuleSet, referrals: list[RefState], claim: Claim | None,
    customer: Customer,
) -> Refusal | None:
    live = [r for r in referrals if r.live]
    mine = [r.event.id for r in live if r.event.broker_id == ev.broker_id]
    if mine or (claim is not None and claim.broker_id == ev.broker_id):
        return ReasonCode.ALREADY_REFERRED_BY_YOU, tuple(mine) or claim_ids(claim)
    owner_code = old_owner_refusal(customer, rules)
    if owner_code is not None:
        return owner_code, ()
    modes = {r.mode for r in live} | ({claim.mode} if claim else set())
    if modes and modes != {rules.attribution_mode}:
        return ReasonCode.OTHER_MODE_CUSTOMER, tuple(r.event.id for r in live) or claim_ids(claim)
    if claim is not None:
        code = (ReasonCode.ALREADY_VISITED_BY_OTHER if claim.stage == "visit"
                else ReasonCode.IN_PROTECTION)
        return code, claim_ids(claim)
    # Several brokers may refer one customer only where the visit decides.
    if rules.attribution_mode == "report_protection" and live:
        return ReasonCode.ALREADY_REFERRED_BY_OTHER, tuple(r.event.id for r in live)
    if customer.consultant_id is not None and customer.consultant_protected:
        evidence = (customer.first_visit_id,) if customer.first_visit_id else ()
        return ReasonCode.EXISTING_CUSTOMER_WITH_CONSULTANT, evidence
    return None


def old_owner_refusal(customer: Customer, rules: RuleSet) -> ReasonCode | None:
    """Whether the customer's ownership of a unit keeps the channel out (old_owner_policy)."""
    if "project" in customer.old_owner and rules.old_owner_policy != "all":
        return ReasonCode.PROJECT_OLD_OWNER
    if "group" in customer.old_owner and rules.old_owner_policy == "none":
        return ReasonCode.GROUP_OLD_OWNER
    return None


def _re_referral(rules: RuleSet, referrals: list[RefState]) -> Refusal | None:
    if rules.re_referral:
        return None
    ended = tuple(r.event.id for r in referrals if r.accepted and not r.live)
    return (ReasonCode.RE_REFERRAL_NOT_ALLOWED, ended) if ended else None


def claim_ids(claim: Claim | None) -> tuple[str, ...]:
    return claim.evidence if claim is not None else ()


def _masked_party(evidence: tuple[str, ...], referrals: list[RefState]) -> bool:
    return any(r.event.id in evidence and r.uncompleted for r in referrals)
