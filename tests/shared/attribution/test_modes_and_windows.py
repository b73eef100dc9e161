"""Worked scenarios per attribution mode, protection-window variant and rule change."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from shared.attribution import AttributionInputError, ReasonCode, TeamOverride
from shared.attribution.rules import ClockWindow, DurationWindow
from tests.shared.attribution.builders import (
    DAY,
    HOUR,
    MINUTE,
    T0,
    assign,
    deal,
    follow_up,
    history,
    old_owner,
    qr,
    referral,
    rules,
    run,
    visit,
)


def test_report_protection_first_valid_referral_wins() -> None:
    events = [referral("a", T0), referral("b", T0 + HOUR, "broker-b"),
              visit("v", T0 + DAY, "broker-b")]
    d = run(events, T0 + DAY)
    # B brought the customer, but A's referral protects it: A owns.
    assert (d.owner.broker_id, d.owner.stage) == ("broker-a", "visit")
    assert [s.step_id for s in d.trace] == ["a", "b", "v"]


def test_competitive_visit_first_confirmed_visit_wins() -> None:
    events = [referral("a", T0), referral("b", T0 + HOUR, "broker-b"),
              qr("q", T0 + DAY, "broker-b"), referral("c", T0 + 2 * DAY, "broker-c")]
    d = run(events, T0 + 2 * DAY, attribution_mode="competitive_visit")
    assert d.owner.broker_id == "broker-b"
    assert d.referral("a").reason.code == ReasonCode.ALREADY_VISITED_BY_OTHER
    assert d.referral("b").reason.code == ReasonCode.VISIT_CONFIRMED
    assert d.referral("c").reason.code == ReasonCode.ALREADY_VISITED_BY_OTHER
    before = run(events, T0 + 2 * HOUR, attribution_mode="competitive_visit")
    assert [r.state for r in before.referrals] == ["pending", "pending"]
    assert before.owner.kind == "none"


def test_visit_wins_whoever_brings_the_customer_first_owns_it() -> None:
    events = [referral("a", T0), qr("q", T0 + 5 * MINUTE, "broker-b")]
    d = run(events, T0 + HOUR, attribution_mode="visit_wins")
    # No referral protection, so no lead time either: B needs no referral at all.
    assert (d.owner.kind, d.owner.broker_id, d.owner.referral_id) == ("channel", "broker-b", None)
    assert d.referral("a").reason.code == ReasonCode.ALREADY_VISITED_BY_OTHER
    natural_first = run([visit("v", T0), qr("q", T0 + DAY, "broker-b")], T0 + DAY,
                        attribution_mode="visit_wins")
    assert natural_first.owner.kind == "natural"
    owner_of_this_project = [old_owner("o", T0, "project"), qr("q", T0 + DAY, "broker-b")]
    assert run(owner_of_this_project, T0 + DAY, attribution_mode="visit_wins").owner.kind == (
        "natural")


def test_referral_window_as_a_fixed_clock_time() -> None:
    # 定点: valid until 23:59 (Asia/Shanghai) the day of the referral (T0 is 10:00 there).
    clock = ClockWindow(until=time(23, 59))
    last_minute = T0 + 13 * HOUR + 59 * MINUTE
    d = run([referral("a", T0), visit("v", last_minute)], last_minute, referral_protection=clock)
    assert d.referral("a").reason.code == ReasonCode.VISIT_CONFIRMED
    d = run([referral("a", T0), visit("v", last_minute + MINUTE)], last_minute + MINUTE,
            referral_protection=clock)
    assert d.referral("a").reason.code == ReasonCode.VISIT_OVERDUE
    assert d.referral("a").decided_at == last_minute
    # After that day's 23:59 the window is the next day's.
    late = datetime(2026, 3, 1, 15, 59, 30, tzinfo=UTC)  # 23:59:30 in Shanghai
    d = run([referral("a", late)], late, referral_protection=clock)
    assert d.referral("a").protection_until == late + DAY - 30 * timedelta(seconds=1)


def test_two_stage_counts_visit_protection_from_the_visit() -> None:
    events = [referral("a", T0), visit("v", T0 + 2 * DAY)]
    d = run(events, T0 + 2 * DAY, follow_up_lapse=None)
    assert d.owner.protection_until == T0 + 32 * DAY


def test_one_stage_counts_one_window_from_the_referral() -> None:
    events = [referral("a", T0), visit("v", T0 + 2 * DAY), deal("s", T0 + 31 * DAY)]
    d = run(events, T0 + 31 * DAY, protection_stages="one", follow_up_lapse=None)
    assert d.referral("a").reason.code == ReasonCode.DEAL_OVERDUE
    assert d.referral("a").decided_at == T0 + 30 * DAY


def test_follow_up_lapse_with_recycle_moves_the_customer_to_the_pool() -> None:
    events = [visit("v", T0), follow_up("f1", T0 + 6 * DAY), follow_up("f2", T0 + 13 * DAY)]
    alive = run(events, T0 + 20 * DAY)
    assert alive.owner.consultant_protection_until == T0 + 20 * DAY
    d = run(events, T0 + 20 * DAY + MINUTE)
    assert d.owner.reason.code == ReasonCode.PUBLIC_POOL
    assert d.trace[-1].kind == "consultant_lapse"
    # From 认筹 on a customer never lapses.
    d = run([*events, deal("p", T0 + 14 * DAY, "pledge")], T0 + 60 * DAY)
    assert d.owner.consultant_id == "c-li" and d.owner.consultant_protection_until is None


def test_team_override_shortens_the_window_for_its_team_only() -> None:
    hist = history(rules(team_overrides={
        "fast": TeamOverride(referral_protection=DurationWindow(length=timedelta(hours=24)),
                             warnings={"referral": timedelta(hours=2)})}))
    d = run([referral("a", T0, team="fast")], T0, hist)
    assert d.referral("a").protection_until == T0 + DAY
    assert run([referral("a", T0)], T0, hist).referral("a").protection_until == T0 + 3 * DAY


def test_rule_change_recomputes_live_windows() -> None:
    shorter = rules(2, T0 + DAY, referral_protection=DurationWindow(length=timedelta(hours=48)))
    hist = history(rules(), shorter)
    d = run([referral("a", T0), visit("v", T0 + 60 * HOUR)], T0 + 3 * DAY, hist)
    assert d.referral("a").reason.code == ReasonCode.VISIT_OVERDUE
    assert d.referral("a").decided_at == T0 + 48 * HOUR
    assert d.referral("a").reason.rule_version == 2
    assert [s.step_id for s in d.trace] == ["a", "rules:v2", "expiry:a", "v"]


def test_rule_change_never_ends_a_window_before_the_change() -> None:
    shorter = rules(2, T0 + 30 * HOUR,
                    referral_protection=DurationWindow(length=timedelta(hours=24)),
                    warnings={"referral": timedelta(hours=1)})
    d = run([referral("a", T0)], T0 + 31 * HOUR, history(rules(), shorter))
    assert d.referral("a").state == "expired"
    assert d.referral("a").decided_at == T0 + 30 * HOUR


def test_rule_change_never_revives_what_expired() -> None:
    longer = rules(2, T0 + 80 * HOUR,
                   referral_protection=DurationWindow(length=timedelta(days=10)))
    d = run([referral("a", T0), visit("v", T0 + 90 * HOUR)], T0 + 4 * DAY,
            history(rules(), longer))
    assert d.referral("a").reason.code == ReasonCode.VISIT_OVERDUE
    assert d.owner.kind == "natural"


def test_rule_change_keeps_the_mode_a_claim_was_made_under() -> None:
    competitive = rules(2, T0 + HOUR, attribution_mode="competitive_visit")
    events = [referral("a", T0), referral("b", T0 + 2 * HOUR, "broker-b")]
    d = run(events, T0 + 2 * HOUR, history(rules(), competitive))
    assert d.referral("b").reason.code == ReasonCode.OTHER_MODE_CUSTOMER


@pytest.mark.parametrize("bad", [
    {"warnings": {"referral": timedelta(hours=72)}},
    {"visit_protection": timedelta(hours=12)},
    {"follow_up_lapse": timedelta(hours=12)},
    {"team_overrides": {"t": {"visit_protection": timedelta(hours=1)}}},
    {"lead_time": timedelta(minutes=-1)},
    {"attribution_mode": "first_come"},
    {"unknown_parameter": 1},
])
def test_rule_sets_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        rules(**bad)


def test_rule_versions_must_move_forward() -> None:
    with pytest.raises(ValueError):
        history(rules(2, T0), rules(1, T0 + DAY))
    with pytest.raises(ValueError):
        history(rules(1, T0), rules(2, T0))


def test_the_same_id_with_other_content_is_refused() -> None:
    with pytest.raises(AttributionInputError):
        run([referral("a", T0), referral("a", T0 + HOUR)], T0 + DAY)


def test_two_different_full_numbers_are_two_customers() -> None:
    with pytest.raises(AttributionInputError):
        run([referral("a", T0), referral("b", T0 + HOUR, "broker-b", phone="13912345678")],
            T0 + DAY)


def test_events_before_the_first_rule_version_are_refused() -> None:
    with pytest.raises(AttributionInputError):
        run([referral("a", T0)], T0 + DAY, history(rules(1, T0 + HOUR)))


def test_one_stage_the_visit_must_also_come_inside_the_single_window() -> None:
    # A 2-day single window is shorter than the 72 h referral window: it bounds the visit.
    d = run([referral("a", T0), visit("v", T0 + 2 * DAY + MINUTE)], T0 + 3 * DAY,
            protection_stages="one", visit_protection=2 * DAY,
            warnings={"visit": HOUR})
    assert (d.referral("a").reason.code, d.referral("a").decided_at) == (
        ReasonCode.VISIT_OVERDUE, T0 + 2 * DAY)


def test_one_stage_window_shortened_by_a_rule_change_never_ends_before_the_visit() -> None:
    v1 = rules(referral_protection=DurationWindow(length=HOUR),
               warnings={"referral": 10 * MINUTE, "visit": HOUR},
               protection_stages="one", visit_protection=2 * DAY)
    v2 = rules(2, T0 + 10 * MINUTE, protection_stages="one", visit_protection=2 * DAY,
               warnings={"visit": HOUR})
    d = run([referral("a", T0), visit("v", T0 + 2 * DAY)], T0 + 3 * DAY, history(v1, v2))
    times = [s.at for s in d.trace]
    assert times == sorted(times)
    assert d.referral("a").reason.code == ReasonCode.DEAL_OVERDUE
    assert d.referral("a").decided_at == T0 + 2 * DAY


def test_each_expiry_step_shows_the_owner_right_after_it() -> None:
    # Two windows end between the same two events: each step keeps its own owner.
    d = run([referral("a", T0), assign("as", T0 + HOUR)], T0 + 40 * DAY)
    expiry, lapse = d.trace[2], d.trace[3]
    assert (expiry.step_id, expiry.owner.consultant_protection_until) == (
        "expiry:a", T0 + HOUR + 7 * DAY)  # the follow-up lapse binds first
    assert lapse.kind == "consultant_lapse" and lapse.owner.in_public_pool


def test_warnings_come_before_each_window_ends() -> None:
    events = [referral("a", T0), visit("v", T0 + DAY)]
    visit_stage = run(events, T0 + DAY, follow_up_lapse=None)
    assert visit_stage.owner.warn_at == T0 + 30 * DAY  # 1 day before day 31
    lapsing = run(events, T0 + DAY, warnings={"follow_up": 2 * HOUR})
    assert (lapsing.owner.protection_until, lapsing.owner.warn_at) == (
        T0 + 8 * DAY, T0 + 8 * DAY - 2 * HOUR)


def test_a_masked_number_never_learns_that_the_customer_is_an_owner() -> None:
    d = run([old_owner("o", T0 - DAY, "project"), referral("a", T0, phone="138123456**")],
            T0, phone_policy="first9")
    assert d.referral("a").reason.code == ReasonCode.SUSPECTED_DUPLICATE
