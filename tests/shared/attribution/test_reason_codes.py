"""One worked scenario per reason code, written by hand from domain/channel-rules.md.

Default rules unless a test says otherwise: report_protection, instant confirmation,
lead time 30 min, referral protection 72 h, two-stage visit protection 30 days, deal
milestone subscription, follow-up lapse 7 days with recycle, full numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from shared.attribution import ReasonCode, TeamOverride
from tests.shared.attribution.builders import (
    DAY,
    HOUR,
    MASK_34,
    MINUTE,
    T0,
    assign,
    completion,
    deal,
    follow_up,
    history,
    old_owner,
    override,
    qr,
    referral,
    review,
    rules,
    run,
    visit,
)

WORKED: set[ReasonCode] = set()


def worked(*codes: ReasonCode) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(test: Callable[[], None]) -> Callable[[], None]:
        WORKED.update(codes)
        return test
    return register


@worked(ReasonCode.GROUP_OLD_OWNER)
def test_group_old_owner_refused_where_no_owner_may_be_referred() -> None:
    events = [old_owner("o", T0 - DAY, "group"), referral("r", T0)]
    refused = run(events, T0, old_owner_policy="none").referral("r")
    assert (refused.state, refused.reason.code) == ("invalid", ReasonCode.GROUP_OLD_OWNER)
    assert refused.reason.text == "集团老业主"
    # By default owners of the group's other projects may be referred.
    assert run(events, T0).referral("r").state == "confirmed"


@worked(ReasonCode.PROJECT_OLD_OWNER)
def test_project_old_owner_refused_by_default() -> None:
    events = [old_owner("o", T0 - DAY, "project"), referral("r", T0)]
    refused = run(events, T0).referral("r")
    assert (refused.state, refused.reason.code) == ("invalid", ReasonCode.PROJECT_OLD_OWNER)
    assert run(events, T0, old_owner_policy="all").referral("r").state == "confirmed"


@worked(ReasonCode.EXISTING_CUSTOMER_WITH_CONSULTANT, ReasonCode.NATURAL_VISIT)
def test_existing_customer_with_a_consultant_in_protection() -> None:
    events = [visit("v", T0), follow_up("f", T0 + 3 * DAY), referral("r", T0 + 5 * DAY)]
    d = run(events, T0 + 5 * DAY)
    assert d.referral("r").reason.code == ReasonCode.EXISTING_CUSTOMER_WITH_CONSULTANT
    assert d.referral("r").reason.evidence == ("r", "v")
    assert (d.owner.kind, d.owner.reason.code) == ("natural", ReasonCode.NATURAL_VISIT)
    assert d.owner.consultant_id == "c-li"


@worked(ReasonCode.PUBLIC_POOL)
def test_public_pool_customer_can_be_referred_and_the_referral_attaches() -> None:
    # No effective follow-up for 7 days: the consultant's protection lapses, recycle on.
    events = [visit("v", T0), follow_up("f", T0 + 2 * DAY, effective=False),
              referral("r", T0 + 8 * DAY), visit("v2", T0 + 9 * DAY)]
    before = run(events, T0 + 7 * DAY + MINUTE)
    assert before.owner.reason.code == ReasonCode.PUBLIC_POOL
    assert before.owner.in_public_pool and before.owner.consultant_id is None
    after = run(events, T0 + 9 * DAY)
    assert after.referral("r").reason.code == ReasonCode.VISIT_CONFIRMED
    assert after.owner.broker_id == "broker-a" and after.owner.consultant_id == "c-li"


@worked(ReasonCode.ALREADY_REFERRED_BY_OTHER, ReasonCode.PENDING_CONFIRMATION)
def test_already_referred_by_another_channel_while_its_referral_awaits_confirmation() -> None:
    events = [referral("a", T0), referral("b", T0 + HOUR, "broker-b")]
    d = run(events, T0 + HOUR, confirmation="on_site")
    assert d.referral("a").reason.code == ReasonCode.PENDING_CONFIRMATION
    assert d.referral("b").reason.code == ReasonCode.ALREADY_REFERRED_BY_OTHER
    assert d.referral("b").reason.evidence == ("b", "a")
    assert d.owner.kind == "none"


@worked(ReasonCode.ALREADY_VISITED_BY_OTHER, ReasonCode.VISIT_CONFIRMED)
def test_already_brought_by_another_channel() -> None:
    events = [referral("a", T0), visit("v", T0 + DAY, "broker-a"),
              referral("b", T0 + 2 * DAY, "broker-b")]
    d = run(events, T0 + 2 * DAY)
    assert d.referral("a").reason.code == ReasonCode.VISIT_CONFIRMED
    assert d.referral("b").reason.code == ReasonCode.ALREADY_VISITED_BY_OTHER
    assert d.referral("b").reason.text == "已被其他渠道带看"


@worked(ReasonCode.IN_PROTECTION, ReasonCode.REFERRAL_PROTECTED)
def test_inside_someone_elses_protection_period() -> None:
    events = [referral("a", T0), referral("b", T0 + HOUR, "broker-b")]
    d = run(events, T0 + HOUR)
    assert d.referral("a").reason.code == ReasonCode.REFERRAL_PROTECTED
    assert d.referral("a").protection_until == T0 + 72 * HOUR
    assert d.referral("b").reason.code == ReasonCode.IN_PROTECTION
    assert (d.owner.kind, d.owner.broker_id) == ("channel", "broker-a")
    assert d.owner.warn_at == T0 + 48 * HOUR


@worked(ReasonCode.LEAD_TIME_NOT_MET)
def test_lead_time_not_met_the_visit_is_natural() -> None:
    events = [referral("a", T0), visit("v", T0 + 29 * MINUTE, "broker-a")]
    d = run(events, T0 + HOUR)
    assert d.referral("a").reason.code == ReasonCode.LEAD_TIME_NOT_MET
    assert d.referral("a").reason.evidence == ("a", "v")
    assert d.owner.kind == "natural"
    # Exactly the lead time counts.
    ok = run([referral("a", T0), visit("v", T0 + 30 * MINUTE)], T0 + HOUR)
    assert ok.referral("a").reason.code == ReasonCode.VISIT_CONFIRMED


@worked(ReasonCode.VISIT_OVERDUE)
def test_visit_after_referral_protection() -> None:
    late = run([referral("a", T0), visit("v", T0 + 72 * HOUR + MINUTE)], T0 + 4 * DAY)
    assert (late.referral("a").state, late.referral("a").reason.code) == (
        "expired", ReasonCode.VISIT_OVERDUE)
    assert late.referral("a").decided_at == T0 + 72 * HOUR
    assert late.owner.kind == "natural"
    in_time = run([referral("a", T0), visit("v", T0 + 72 * HOUR)], T0 + 4 * DAY)
    assert in_time.referral("a").state == "confirmed"


@worked(ReasonCode.DEAL_OVERDUE)
def test_deal_after_visit_protection() -> None:
    events = [referral("a", T0), visit("v", T0 + DAY)]
    events += [follow_up(f"f{i}", T0 + DAY + i * 5 * DAY) for i in range(1, 7)]
    events.append(deal("d", T0 + 32 * DAY))
    d = run(events, T0 + 40 * DAY)
    assert (d.referral("a").state, d.referral("a").reason.code) == (
        "expired", ReasonCode.DEAL_OVERDUE)
    assert d.referral("a").decided_at == T0 + 31 * DAY
    # The consultant's 30 days from the visit ended at the same instant (recycle on).
    assert (d.owner.kind, d.owner.reason.code) == ("natural", ReasonCode.PUBLIC_POOL)


@worked(ReasonCode.DEAL_IN_PROTECTION)
def test_deal_milestone_inside_protection_locks_the_owner() -> None:
    events = [referral("a", T0), visit("v", T0 + DAY), deal("p", T0 + 3 * DAY, "pledge"),
              deal("s", T0 + 20 * DAY)]
    at_pledge = run(events, T0 + 3 * DAY)
    assert at_pledge.owner.stage == "visit"  # a pledge is not the milestone
    d = run(events, T0 + 400 * DAY)
    assert d.referral("a").reason.code == ReasonCode.DEAL_IN_PROTECTION
    assert d.referral("a").reason.evidence == ("a", "v", "s")
    assert (d.owner.stage, d.owner.protection_until) == ("deal", None)


@worked(ReasonCode.ALREADY_REFERRED_BY_YOU)
def test_already_referred_by_you() -> None:
    d = run([referral("a", T0), referral("a2", T0 + HOUR)], T0 + HOUR)
    assert d.referral("a2").reason.code == ReasonCode.ALREADY_REFERRED_BY_YOU
    assert d.referral("a2").reason.text == "您已报备过该客户"


@worked(ReasonCode.MASK_MISMATCH)
def test_completed_number_must_match_the_mask() -> None:
    events = [referral("a", T0, phone=MASK_34), completion("c", T0 + HOUR, "a", "13812345679")]
    d = run(events, T0 + HOUR, phone_policy="3+4")
    assert d.referral("a").reason.code == ReasonCode.MASK_MISMATCH
    assert d.owner.kind == "none"
    good = run([referral("a", T0, phone=MASK_34), completion("c", T0 + HOUR, "a"),
                visit("v", T0 + DAY)], T0 + DAY, phone_policy="3+4")
    assert good.referral("a").reason.code == ReasonCode.VISIT_CONFIRMED


@worked(ReasonCode.OTHER_MODE_CUSTOMER)
def test_a_customer_is_under_one_mode_at_a_time() -> None:
    hist = history(rules(team_overrides={
        "team-2": TeamOverride(attribution_mode="competitive_visit")}))
    events = [referral("a", T0), referral("b", T0 + HOUR, "broker-b", team="team-2")]
    d = run(events, T0 + HOUR, hist)
    assert d.referral("b").reason.code == ReasonCode.OTHER_MODE_CUSTOMER


@worked(ReasonCode.SUSPECTED_DUPLICATE)
def test_masked_collision_is_a_suspected_duplicate_not_a_disclosure() -> None:
    # A masked number cannot say whose customer this is: 疑似重号, not 处于他人保护期.
    masked_second = [referral("a", T0), referral("b", T0 + HOUR, "broker-b", phone=MASK_34)]
    d = run(masked_second, T0 + HOUR, phone_policy="3+4")
    assert d.referral("b").reason.code == ReasonCode.SUSPECTED_DUPLICATE
    assert d.referral("b").reason.text == "疑似重号"
    masked_first = [referral("a", T0, phone=MASK_34), referral("b", T0 + HOUR, "broker-b")]
    d = run(masked_first, T0 + HOUR, phone_policy="3+4")
    assert d.referral("b").reason.code == ReasonCode.SUSPECTED_DUPLICATE
    # A different masked number (first 3 differ) is a different customer: caller's job.


@worked(ReasonCode.PHONE_POLICY_VIOLATION)
def test_masked_referral_where_the_project_wants_full_numbers() -> None:
    d = run([referral("a", T0, phone=MASK_34)], T0)
    assert d.referral("a").reason.code == ReasonCode.PHONE_POLICY_VIOLATION
    # first7 shows 1381234****: a 3+4 mask shows fewer of those digits.
    d = run([referral("a", T0, phone=MASK_34)], T0, phone_policy="first7")
    assert d.referral("a").reason.code == ReasonCode.PHONE_POLICY_VIOLATION


@worked(ReasonCode.NAME_POLICY_VIOLATION)
def test_name_policy() -> None:
    d = run([referral("a", T0, name="王先生")], T0)
    assert d.referral("a").reason.code == ReasonCode.NAME_POLICY_VIOLATION
    assert run([referral("a", T0, name="王先生")], T0, name_policy="surname").referral(
        "a").state == "confirmed"


@worked(ReasonCode.LIVE_REFERRAL_CAP)
def test_live_referral_cap_per_broker() -> None:
    d = run([referral("a", T0, live=3)], T0, live_referral_cap=3)
    assert d.referral("a").reason.code == ReasonCode.LIVE_REFERRAL_CAP
    assert run([referral("a", T0, live=2)], T0, live_referral_cap=3).referral(
        "a").state == "confirmed"


@worked(ReasonCode.RE_REFERRAL_NOT_ALLOWED)
def test_re_referral_after_expiry() -> None:
    events = [referral("a", T0), referral("b", T0 + 4 * DAY, "broker-b")]
    d = run(events, T0 + 4 * DAY, re_referral=False)
    assert d.referral("b").reason.code == ReasonCode.RE_REFERRAL_NOT_ALLOWED
    assert d.referral("b").reason.evidence == ("b", "a")
    assert run(events, T0 + 4 * DAY).referral("b").state == "confirmed"


@worked(ReasonCode.COMPLETION_MISSING)
def test_masked_number_must_be_completed_at_the_stage_the_rules_name() -> None:
    masked = referral("a", T0, phone=MASK_34)
    d = run([masked, visit("v", T0 + DAY, "broker-a")], T0 + DAY, phone_policy="3+4")
    assert d.referral("a").reason.code == ReasonCode.COMPLETION_MISSING
    # The QR check-in carries the full number: completed and confirmed in one step.
    d = run([masked, qr("q", T0 + DAY, "broker-a", phone="13812345678")], T0 + DAY,
            phone_policy="3+4")
    assert d.referral("a").reason.code == ReasonCode.VISIT_CONFIRMED
    # Completion at subscription: the visit confirms, the subscription needs the number.
    events = [masked, visit("v", T0 + DAY), deal("s", T0 + 5 * DAY)]
    d = run(events, T0 + 5 * DAY, phone_policy="3+4", completion_stage="subscription")
    assert d.referral("a").reason.code == ReasonCode.COMPLETION_MISSING
    assert d.owner.kind == "natural"


@worked(ReasonCode.CUSTOMER_VISITED_ALONE)
def test_on_site_confirmation_needs_the_broker_to_bring_the_customer() -> None:
    d = run([referral("a", T0), visit("v", T0 + DAY)], T0 + DAY, confirmation="on_site")
    assert d.referral("a").reason.code == ReasonCode.CUSTOMER_VISITED_ALONE
    d = run([referral("a", T0), qr("q", T0 + DAY, "broker-a")], T0 + DAY,
            confirmation="on_site")
    assert d.referral("a").reason.code == ReasonCode.VISIT_CONFIRMED


@worked(ReasonCode.FOLLOW_UP_LAPSED, ReasonCode.CONSULTANT_PROTECTION_ENDED)
def test_follow_up_lapse_ends_protection() -> None:
    events = [referral("a", T0), visit("v", T0 + DAY), follow_up("f", T0 + 5 * DAY)]
    d = run(events, T0 + 13 * DAY)
    assert (d.referral("a").state, d.referral("a").reason.code) == (
        "expired", ReasonCode.FOLLOW_UP_LAPSED)
    assert d.referral("a").decided_at == T0 + 12 * DAY
    assert d.owner.reason.code == ReasonCode.PUBLIC_POOL  # recycle on
    kept = run(events, T0 + 13 * DAY, recycle=False)
    assert kept.owner.reason.code == ReasonCode.FOLLOW_UP_LAPSED
    assert kept.owner.consultant_id == "c-li" and not kept.owner.in_public_pool
    # Followed up, but the consultant's own protection (5 days here) ran out first.
    ended = run([visit("v", T0), follow_up("f", T0 + 4 * DAY)], T0 + 6 * DAY, recycle=False,
                consultant_protection=5 * DAY)
    assert ended.owner.reason.code == ReasonCode.CONSULTANT_PROTECTION_ENDED
    assert ended.owner.consultant_protection_until is None
    # A manager's assignment gives the new consultant a fresh protection.
    reassigned = run([*events, assign("as", T0 + 14 * DAY)], T0 + 14 * DAY)
    assert reassigned.owner.consultant_id == "c-wang"
    assert reassigned.owner.reason.code == ReasonCode.NATURAL_VISIT


@worked(ReasonCode.NO_OWNER)
def test_no_owner_before_anything_happens() -> None:
    d = run([], T0)
    assert (d.owner.kind, d.owner.reason.code, d.referrals) == ("none", ReasonCode.NO_OWNER, ())


@worked(ReasonCode.APPEAL_UPHELD, ReasonCode.CLAIM_OVERRIDDEN)
def test_an_upheld_appeal_moves_the_claim_and_later_referrals_respect_it() -> None:
    events = [referral("a", T0), referral("b", T0 + HOUR, "broker-b"),
              override("ov", T0 + 2 * DAY, "b"), referral("c", T0 + 3 * DAY, "broker-c")]
    before = run(events[:2], T0 + 2 * DAY)
    assert before.referral("b").reason.code == ReasonCode.IN_PROTECTION
    d = run(events, T0 + 3 * DAY)
    b = d.referral("b")
    assert (b.state, b.reason.code, b.reason.evidence) == (
        "confirmed", ReasonCode.APPEAL_UPHELD, ("b", "ov"))
    assert b.reason.text == "申诉成立，渠道经理已改判"
    # The claim is b's now, with a referral window from the decision.
    assert b.protection_until == T0 + 2 * DAY + 72 * HOUR
    a = d.referral("a")
    assert (a.state, a.reason.code) == ("invalid", ReasonCode.CLAIM_OVERRIDDEN)
    assert (d.owner.kind, d.owner.broker_id) == ("channel", "broker-b")
    # A later referral is judged against b's claim, not a's.
    c = d.referral("c")
    assert (c.state, c.reason.code, c.reason.evidence) == (
        "invalid", ReasonCode.IN_PROTECTION, ("c", "b", "ov"))
    # A visit after the decision confirms b; the lead time it would have failed is moot.
    came = run([*events, visit("v", T0 + 4 * DAY)], T0 + 4 * DAY).referral("b")
    assert (came.state, came.reason.code) == ("confirmed", ReasonCode.VISIT_CONFIRMED)


def test_an_upheld_appeal_after_an_early_visit_holds_from_that_visit() -> None:
    events = [referral("a", T0), visit("v", T0 + 10 * MINUTE)]
    assert run(events, T0 + DAY).referral("a").reason.code == ReasonCode.LEAD_TIME_NOT_MET
    d = run([*events, override("ov", T0 + DAY, "a")], T0 + 2 * DAY)
    assert (d.referral("a").state, d.owner.stage, d.owner.broker_id) == (
        "confirmed", "visit", "broker-a")
    assert d.owner.reason.evidence == ("a", "v", "ov")
    # Two-stage: 30 days of visit protection from the visit, never before the decision.
    assert d.owner.protection_until is not None
    assert d.owner.protection_until >= T0 + DAY


@worked(ReasonCode.RISK_VOIDED)
def test_a_voided_referral_no_longer_keeps_others_out() -> None:
    events = [referral("a", T0), override("ov", T0 + DAY, "a", "invalid", "risk_voided"),
              referral("b", T0 + 2 * DAY, "broker-b")]
    # Without the override b would be refused: a's window still runs.
    assert run([events[0], events[2]], T0 + 2 * DAY).referral("b").reason.code == (
        ReasonCode.IN_PROTECTION)
    d = run(events, T0 + 2 * DAY)
    assert (d.referral("a").state, d.referral("a").reason.code) == (
        "invalid", ReasonCode.RISK_VOIDED)
    assert (d.referral("b").state, d.referral("b").reason.code) == (
        "confirmed", ReasonCode.REFERRAL_PROTECTED)
    assert d.owner.broker_id == "broker-b"


@worked(ReasonCode.RISK_BLOCKED)
def test_a_blocked_referral_is_invalid_from_its_submission() -> None:
    # The block is recorded at the instant of the referral: it sorts after it.
    events = [override("blk", T0, "a", "invalid", "risk_blocked"), referral("a", T0),
              referral("b", T0 + HOUR, "broker-b")]
    d = run(events, T0 + HOUR)
    a = d.referral("a")
    assert (a.state, a.reason.code, a.protection_until) == ("invalid", ReasonCode.RISK_BLOCKED,
                                                           None)
    assert d.referral("b").state == "confirmed" and d.owner.broker_id == "broker-b"
    # An override of an unknown referral changes nothing.
    assert run([referral("a", T0), override("x", T0, "zz", "invalid", "risk_voided")],
               T0).referral("a").state == "confirmed"


def test_every_reason_code_has_a_worked_scenario_and_chinese_text() -> None:
    assert set(ReasonCode) == WORKED
    from shared.attribution import REASON_TEXT
    assert set(REASON_TEXT) == set(ReasonCode)
    assert all(text and text.isascii() is False for text in REASON_TEXT.values())


def test_evidence_names_the_deciding_rule_version() -> None:
    hist = history(rules(), rules(2, T0 + DAY, lead_time=timedelta(hours=1)))
    d = run([referral("a", T0), visit("v", T0 + DAY + 10 * MINUTE)], T0 + 2 * DAY, hist)
    assert d.referral("a").reason.rule_version == 2


@worked(ReasonCode.PENDING_APPROVAL, ReasonCode.REJECTED_BY_DEVELOPER, ReasonCode.NOT_APPROVED)
def test_developer_approval_of_referrals() -> None:
    waiting = [referral("a", T0), referral("b", T0 + HOUR, "broker-b")]
    d = run(waiting, T0 + HOUR, developer_approval=True)
    assert d.referral("a").reason.code == ReasonCode.PENDING_APPROVAL
    # Awaiting review it already keeps other channels out (report_protection).
    assert d.referral("b").reason.code == ReasonCode.ALREADY_REFERRED_BY_OTHER
    assert d.owner.kind == "none"
    approved = run([referral("a", T0), review("ok", T0 + 2 * HOUR, "a")], T0 + 2 * HOUR,
                   developer_approval=True)
    assert approved.referral("a").reason.code == ReasonCode.REFERRAL_PROTECTED
    assert approved.referral("a").reason.evidence == ("a", "ok")
    assert approved.owner.protection_until == T0 + 72 * HOUR  # from the submission
    rejected = run([referral("a", T0), review("no", T0 + 2 * HOUR, "a", approved=False)],
                   T0 + 2 * HOUR, developer_approval=True)
    assert rejected.referral("a").reason.code == ReasonCode.REJECTED_BY_DEVELOPER
    unreviewed = run([referral("a", T0), visit("v", T0 + DAY, "broker-a")], T0 + DAY,
                     developer_approval=True)
    assert unreviewed.referral("a").reason.code == ReasonCode.NOT_APPROVED
    assert unreviewed.owner.kind == "natural"
