"""What the kiosk shows at registration, and how an edge answer differs from the cloud's.

The edge calls the same decide() on its customer cache; its answer is provisional until
the cloud's arrives, and the user is shown the difference with the cloud's reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.attribution.engine import decide
from shared.attribution.events import Event
from shared.attribution.outcome import Decision, Owner, ReferralOutcome
from shared.attribution.render import STATE_TEXT, local
from shared.attribution.rules import RulesHistory


@dataclass(frozen=True)
class KioskAnswer:
    first_visit: bool
    owner: Owner
    # Live referrals (pending or confirmed) and until when each protects the customer.
    broker_protection: tuple[ReferralOutcome, ...]
    rule_version: int

    @property
    def label(self) -> str:
        return "首访" if self.first_visit else "复访"


def provisional_answer(
    history: RulesHistory, events: Iterable[Event], as_of: datetime,
) -> KioskAnswer:
    """The answer before the visit being registered at `as_of` is recorded."""
    return kiosk_answer(decide(history, events, as_of))


def kiosk_answer(decision: Decision) -> KioskAnswer:
    live = tuple(r for r in decision.referrals if r.state in ("pending", "confirmed"))
    return KioskAnswer(
        first_visit=decision.visit_count == 0, owner=decision.owner,
        broker_protection=live, rule_version=decision.rule_version)


def differences(edge: Decision, cloud: Decision) -> tuple[str, ...]:
    """What the cloud decided differently from the edge's provisional answer, in Chinese,
    each with the cloud's reason: the cloud's decision wins."""
    lines: list[str] = []
    a, b = edge.owner, cloud.owner
    if (a.kind, a.broker_id, a.referral_id) != (b.kind, b.broker_id, b.referral_id):
        lines.append(f"归属：{_owner_text(a)} → {_owner_text(b)}（{b.reason.text}）")
    elif a.protection_until != b.protection_until:
        lines.append(f"保护期至：{local(a.protection_until)} → {local(b.protection_until)}")
    edge_refs = {r.referral_id: r for r in edge.referrals}
    for ref in cloud.referrals:
        before = edge_refs.get(ref.referral_id)
        if before is None:
            lines.append(f"报备 {ref.referral_id}：边缘未收到，云端判为{STATE_TEXT[ref.state]}"
                         f"（{ref.reason.text}）")
        elif (before.state, before.reason.code) != (ref.state, ref.reason.code):
            lines.append(f"报备 {ref.referral_id}：{STATE_TEXT[before.state]}"
                         f"（{before.reason.text}） → {STATE_TEXT[ref.state]}"
                         f"（{ref.reason.text}）")
    return tuple(lines)


def _owner_text(owner: Owner) -> str:
    if owner.kind == "channel":
        return f"渠道（经纪人 {owner.broker_id}）"
    return "自然来访" if owner.kind == "natural" else "无归属"


