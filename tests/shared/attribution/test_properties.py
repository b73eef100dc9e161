"""Property tests of the attribution engine over generated interleavings of referrals,
visits, QR check-ins, follow-ups (and their lapses), deals, completions, pool moves,
rule changes and the expiries the engine derives itself."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from shared.attribution import (
    REASON_TEXT,
    Decision,
    Event,
    ReasonCode,
    RuleSet,
    RulesHistory,
    decide,
    differences,
    kiosk_answer,
    provisional_answer,
)
from shared.attribution.rules import ClockWindow, DurationWindow
from tests.shared.attribution.builders import (
    DAY,
    EPOCH,
    HOUR,
    MASK_34,
    MINUTE,
    T0,
    assign,
    completion,
    deal,
    follow_up,
    old_owner,
    override,
    pool,
    qr,
    referral,
    review,
    rules,
    visit,
)

PROPERTY = settings(max_examples=200, deadline=None)
BROKERS = ("broker-a", "broker-b", "broker-c")
# Gaps between consecutive events: ties, around the lead time, inside and past windows.
GAPS = (timedelta(0), 10 * MINUTE, 30 * MINUTE, 2 * HOUR, DAY, 3 * DAY, 8 * DAY, 31 * DAY)
LIVE_CODES = {ReasonCode.REFERRAL_PROTECTED, ReasonCode.VISIT_CONFIRMED,
              ReasonCode.DEAL_IN_PROTECTION}
PENDING_CODES = {ReasonCode.PENDING_CONFIRMATION, ReasonCode.PENDING_APPROVAL}
# A person's decision (人工改判) may put a referral in any state.
OVERRIDE_CODES = {ReasonCode.APPEAL_UPHELD, ReasonCode.RISK_VOIDED, ReasonCode.RISK_BLOCKED}
EVENTS = TypeAdapter(list[Event])


@st.composite
def rule_params(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "attribution_mode": draw(st.sampled_from(
            ["report_protection", "competitive_visit", "visit_wins"])),
        "confirmation": draw(st.sampled_from(["instant", "on_site"])),
        "developer_approval": draw(st.booleans()),
        "lead_time": draw(st.sampled_from([timedelta(0), 30 * MINUTE])),
        "referral_protection": draw(st.sampled_from([
            DurationWindow(length=HOUR), DurationWindow(length=72 * HOUR),
            ClockWindow(until=time(23, 59))])),
        "visit_protection": draw(st.sampled_from([2 * DAY, 30 * DAY])),
        "protection_stages": draw(st.sampled_from(["one", "two"])),
        "deal_milestone": draw(st.sampled_from(["pledge", "subscription", "contract"])),
        "follow_up_lapse": draw(st.sampled_from([None, 3 * DAY, 7 * DAY])),
        "recycle": draw(st.booleans()),
        "consultant_protection": draw(st.sampled_from([5 * DAY, 30 * DAY])),
        "phone_policy": draw(st.sampled_from(["full", "3+4"])),
        "completion_stage": draw(st.sampled_from(["visit", "subscription", "contract"])),
        "old_owner_policy": draw(st.sampled_from(["none", "other_projects", "all"])),
        "re_referral": draw(st.booleans()),
        "live_referral_cap": draw(st.sampled_from([None, 2])),
        "warnings": {"referral": 10 * MINUTE, "visit": HOUR, "follow_up": HOUR},
    }


def _event(draw: st.DrawFn, i: int, at: datetime) -> Event:
    event_id = f"e{i:02d}"
    broker = draw(st.sampled_from(BROKERS))
    kind = draw(st.sampled_from([
        "referral", "referral", "referral", "masked_referral", "visit", "guided_visit",
        "guided_visit", "qr", "qr", "qr_full", "follow_up", "follow_up", "deal", "completion",
        "assign", "pool", "old_owner", "review", "override"]))
    if kind == "referral":
        return referral(event_id, at, broker, live=draw(st.sampled_from([0, 0, 0, 2])))
    if kind == "masked_referral":
        return referral(event_id, at, broker, phone=MASK_34)
    if kind == "visit":
        return visit(event_id, at, consultant=draw(st.sampled_from([None, "c-li", "c-wang"])))
    if kind == "guided_visit":
        return visit(event_id, at, broker)
    if kind in ("qr", "qr_full"):
        return qr(event_id, at, broker, "13812345678" if kind == "qr_full" else None)
    if kind == "follow_up":
        return follow_up(event_id, at, draw(st.booleans()))
    if kind == "deal":
        return deal(event_id, at, draw(st.sampled_from(["pledge", "subscription", "contract"])))
    if kind == "completion":
        target = f"e{draw(st.integers(0, max(i - 1, 0))):02d}"
        return completion(event_id, at, target,
                          draw(st.sampled_from(["13812345678", "13812340000"])))
    if kind == "review":
        target = f"e{draw(st.integers(0, max(i - 1, 0))):02d}"
        return review(event_id, at, target, draw(st.booleans()))
    if kind == "override":
        target = f"e{draw(st.integers(0, max(i - 1, 0))):02d}"
        state = draw(st.sampled_from(["confirmed", "confirmed", "pending", "invalid",
                                      "expired"]))
        code = draw(st.sampled_from(["appeal_upheld", "risk_voided", "risk_blocked"]))
        return override(event_id, at, target, state, code)
    if kind == "assign":
        return assign(event_id, at)
    if kind == "pool":
        return pool(event_id, at)
    return old_owner(event_id, at, draw(st.sampled_from(["group", "project"])))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[RulesHistory, list[Event], datetime]:
    versions = [rules(1, EPOCH, **draw(rule_params()))]
    at = T0
    events: list[Event] = []
    for i in range(draw(st.integers(0, 12))):
        at += draw(st.sampled_from(GAPS))
        events.append(_event(draw, i, at))
    if draw(st.booleans()):
        change = T0 + draw(st.sampled_from(GAPS[1:])) * draw(st.integers(1, 6))
        versions.append(rules(2, change, **draw(rule_params())))
    as_of = at + draw(st.sampled_from(GAPS))
    return RulesHistory(versions=tuple(versions)), events, as_of


def _check_invariants(decision: Decision, known_ids: set[str]) -> None:
    owner = decision.owner
    confirmed = [r for r in decision.referrals if r.state == "confirmed"]
    pending = [r for r in decision.referrals if r.state == "pending"]
    # Exactly one owner or none.
    assert len(confirmed) <= 1
    if owner.kind == "channel":
        assert owner.broker_id is not None and not pending
        if owner.referral_id is not None:
            assert [r.referral_id for r in confirmed] == [owner.referral_id]
            assert confirmed[0].broker_id == owner.broker_id
    else:
        assert not confirmed and owner.broker_id is None
    # A reason, with evidence and a rule version, for every decision.
    versions_seen = {s.owner.reason.rule_version for s in decision.trace}
    for ref in decision.referrals:
        assert ref.reason.code in REASON_TEXT
        assert ref.reason.evidence[0] == ref.referral_id
        assert set(ref.reason.evidence) <= known_ids
        if ref.reason.code in OVERRIDE_CODES:
            assert ref.protection_until is None or ref.state in ("pending", "confirmed")
        elif ref.state == "pending":
            assert ref.reason.code in PENDING_CODES
        elif ref.state == "confirmed":
            assert ref.reason.code in LIVE_CODES
        else:
            assert ref.reason.code not in LIVE_CODES | PENDING_CODES
            assert ref.protection_until is None
    assert versions_seen <= {1, 2}
    times = [s.at for s in decision.trace]
    assert times == sorted(times) and all(t <= decision.as_of for t in times)
    if decision.trace:
        assert decision.trace[-1].owner == owner


@PROPERTY
@given(scenarios())
def test_one_owner_or_none_and_a_reason_for_every_decision(
    case: tuple[RulesHistory, list[Event], datetime],
) -> None:
    hist, events, as_of = case
    decision = decide(hist, events, as_of)
    _check_invariants(decision, {e.id for e in events})


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False), st.data())
def test_replays_are_idempotent_and_independent_of_input_order(
    case: tuple[RulesHistory, list[Event], datetime], rnd: Any, data: st.DataObject,
) -> None:
    hist, events, as_of = case
    replayed = events + data.draw(st.lists(st.sampled_from(events), max_size=5)) if events \
        else []
    rnd.shuffle(replayed)
    assert decide(hist, replayed, as_of) == decide(hist, events, as_of)


@PROPERTY
@given(scenarios(), st.data())
def test_the_decision_as_of_t_depends_only_on_events_up_to_t(
    case: tuple[RulesHistory, list[Event], datetime], data: st.DataObject,
) -> None:
    hist, events, as_of = case
    t = data.draw(st.sampled_from([as_of, *(e.at for e in events)]))
    earlier = decide(hist, events, t)
    assert earlier == decide(hist, [e for e in events if e.at <= t], t)
    # What later events add never rewrites the story before t.
    later = decide(hist, events, as_of + 40 * DAY)
    assert [s for s in later.trace if s.at < t] == [s for s in earlier.trace if s.at < t]


@PROPERTY
@given(scenarios())
def test_nothing_that_ended_comes_back(case: tuple[RulesHistory, list[Event], datetime]) -> None:
    """…unless a person says so: an override is the one step that may revive it."""
    hist, events, as_of = case
    ended: set[str] = set()
    for step in decide(hist, events, as_of).trace:
        for change in step.changes:
            revived = step.kind == "override" and change.reason.code in OVERRIDE_CODES
            assert change.referral_id not in ended or revived, "an ended referral came back"
            if change.state in ("invalid", "expired"):
                ended.add(change.referral_id)
            else:
                ended.discard(change.referral_id)


@PROPERTY
@given(scenarios())
def test_an_override_decides_its_referral_and_leaves_one_owner(
    case: tuple[RulesHistory, list[Event], datetime],
) -> None:
    hist, events, as_of = case
    decision = decide(hist, events, as_of)
    known = {r.referral_id for r in decision.referrals}
    for step in decision.trace:
        if step.kind != "override":
            continue
        ev = next(e for e in events if e.id == step.step_id)
        assert ev.kind == "override"
        targeted = [c for c in step.changes if c.referral_id == ev.referral_id]
        if ev.referral_id not in known:
            assert step.changes == ()
            continue
        # The target takes the state the person gave, with their reason code.
        assert [(c.state, c.reason.code.value) for c in targeted] == [(ev.state, ev.code)]
        for change in step.changes:
            if change.referral_id != ev.referral_id:
                assert (change.state, change.reason.code) == (
                    "invalid", ReasonCode.CLAIM_OVERRIDDEN)
        if ev.state == "confirmed":
            assert step.owner.kind == "channel" and step.owner.referral_id == ev.referral_id


@PROPERTY
@given(scenarios(), rule_params(), st.sampled_from(GAPS[1:]))
def test_a_rule_change_leaves_what_ended_before_it_alone(
    case: tuple[RulesHistory, list[Event], datetime], params: dict[str, Any],
    offset: timedelta,
) -> None:
    hist, events, as_of = case
    first = hist.versions[0]
    change = T0 + offset
    before = decide(RulesHistory(versions=(first,)), events, as_of)
    after = decide(RulesHistory(versions=(first, rules(2, change, **params))), events, as_of)
    for ref in before.referrals:
        if ref.state in ("invalid", "expired") and ref.decided_at < change:
            assert after.referral(ref.referral_id) == ref


@PROPERTY
@given(scenarios())
def test_edge_and_cloud_paths_give_the_same_answer(
    case: tuple[RulesHistory, list[Event], datetime],
) -> None:
    hist, events, as_of = case
    cloud = decide(hist, events, as_of)
    # The edge gets events and rules through sync as JSON, and runs the same function.
    edge_events = EVENTS.validate_json(EVENTS.dump_json(events))
    edge_rules = RulesHistory.model_validate_json(hist.model_dump_json())
    edge = decide(edge_rules, edge_events, as_of)
    assert edge == cloud and differences(edge, cloud) == ()
    assert provisional_answer(edge_rules, edge_events, as_of) == kiosk_answer(cloud)


def test_rule_set_round_trips_through_json() -> None:
    one = rules(referral_protection=ClockWindow(until=time(23, 59), days=2))
    assert RuleSet.model_validate_json(one.model_dump_json()) == one
