"""Checks on what decide() is given: one customer, one project, no conflicting ids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.attribution.events import Event, Override, Referral
from shared.attribution.masks import compatible, is_masked
from shared.attribution.rules import RulesHistory
from shared.errors import ValidationFailed


class AttributionInputError(ValidationFailed):
    code = "attribution_input_invalid"
    title = "判客数据不合法"


def prepare(history: RulesHistory, events: Iterable[Event], as_of: datetime) -> list[Event]:
    """The events at or before as_of, once each, in (time, id) order — a person's
    override after the facts of its instant (it decides on what they made).

    A replayed event (same id, same content) counts once — sync delivers at least once;
    the same id with other content is a caller's bug, not something to guess about.
    """
    by_id: dict[str, Event] = {}
    for ev in events:
        seen = by_id.get(ev.id)
        if seen is not None and seen != ev:
            raise AttributionInputError(f"事件 {ev.id} 出现了两个不同的版本")
        by_id[ev.id] = ev
    timeline = sorted((e for e in by_id.values() if e.at <= as_of), key=order)
    if timeline and history.at(timeline[0].at) is None:
        raise AttributionInputError(f"事件 {timeline[0].id} 早于该项目第一个规则版本的生效时间")
    _one_customer(history, timeline)
    return timeline


def order(ev: Event) -> tuple[datetime, int, str]:
    return ev.at, 1 if isinstance(ev, Override) else 0, ev.id


def _one_customer(history: RulesHistory, timeline: list[Event]) -> None:
    """The caller gathers one customer's events (by the full number's blind index and the
    masks it matches); a second number would mean two customers judged as one. Completed
    numbers are not checked here: one that does not fit is the engine's mask_mismatch."""
    numbers: list[tuple[str, str]] = []
    for ev in timeline:
        if isinstance(ev, Referral):
            if ev.project_id != history.project_id:
                raise AttributionInputError(f"报备 {ev.id} 不属于项目 {history.project_id}")
            numbers.append((ev.id, ev.phone))
    full = {phone for _, phone in numbers if not is_masked(phone)}
    if len(full) > 1:
        raise AttributionInputError("同一客户的历史中出现了不同的完整手机号")
    for event_id, phone in numbers:
        if any(not compatible(phone, other) for other in full):
            raise AttributionInputError(f"事件 {event_id} 的号码与该客户的手机号不符")
