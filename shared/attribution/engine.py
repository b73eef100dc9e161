"""判客: decide(rules, events, as_of) → the owner, each referral's state, and the trace.

Pure and deterministic: no clock, no I/O, no randomness. Events are deduplicated by id
and taken in (time, id) order whatever order they arrive in; a rule version applies from
its effective_from (before any event of the same instant); a window ends after its last
instant (an event exactly at the end is inside), and the expiry it causes is a trace
step of its own. The cloud decides with this; the edge runs the same function on its
customer cache for the kiosk's provisional answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.attribution.events import Event
from shared.attribution.inputs import order, prepare
from shared.attribution.outcome import Change, Decision, TraceStep
from shared.attribution.rules import RuleSet, RulesHistory
from shared.attribution.walker import Walker
from shared.timeutil import as_utc


@dataclass(frozen=True)
class _RuleChange:
    at: datetime
    rules: RuleSet

    @property
    def id(self) -> str:
        return f"rules:v{self.rules.version}"


def decide(history: RulesHistory, events: Iterable[Event], as_of: datetime) -> Decision:
    """The decision as of `as_of`, from the events at or before it."""
    as_of = as_utc(as_of)
    timeline = prepare(history, events, as_of)
    # The walk starts under the version in force at the first event; later versions are
    # steps of their own.
    start = timeline[0].at if timeline else as_of
    walker = Walker(history.at(start) or history.versions[0])
    changes = [_RuleChange(r.effective_from, r) for r in history.versions
               if start < r.effective_from <= as_of]
    trace: list[TraceStep] = []

    def record(step: tuple[datetime, str, str, tuple[Change, ...]]) -> None:
        at, step_id, kind, step_changes = step
        trace.append(TraceStep(at, step_id, kind, step_changes, walker.owner()))

    # Rule changes sort before events of the same instant: they are in force at it;
    # overrides after them (inputs.order).
    items: list[tuple[datetime, int, str, _RuleChange | Event]] = [
        (c.at, 0, c.id, c) for c in changes
    ] + [(e.at, 1 + order(e)[1], e.id, e) for e in timeline]
    for at, _, _, item in sorted(items, key=lambda i: i[:3]):
        for expiry in walker.expire_before(at):
            record(expiry)
        if isinstance(item, _RuleChange):
            walker.change_rules(item.rules, at)
            record((at, item.id, "rule_change", ()))
        else:
            record((at, item.id, item.kind, walker.apply(item)))
    for expiry in walker.expire_before(as_of):
        record(expiry)
    return Decision(
        as_of=as_of, rule_version=walker.rules.version, owner=walker.owner(),
        referrals=walker.outcomes(), trace=tuple(trace),
        visit_count=len(walker.customer.visit_days))
