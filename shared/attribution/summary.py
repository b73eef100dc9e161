"""The provisional answer of a registration in a form both ends keep, and where the
cloud's differs from the appliance's.

The appliance judges a registration with its caches (shared.attribution on the down-feed's
copy); the cloud judges the same moment with everything it knows. Both reduce their
`KioskAnswer` to a `ProvisionalAnswer` (首访/复访, owner, the live referrals), so the
comparison is of like with like; the cloud's answer wins and the lines below say how.
"""

from __future__ import annotations

from shared.attribution.kiosk import KioskAnswer
from shared.attribution.render import STATE_TEXT
from shared.events import ProvisionalAnswer, ProvisionalBroker

_OWNER_TEXT = {"natural": "自然来访", "none": "无归属"}


def _id(ref: str | None) -> int | None:
    """The number of an engine id ("referral:12", "12"); None for anything else."""
    if ref is None:
        return None
    tail = ref.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() and int(tail) > 0 else None


def summarise(answer: KioskAnswer) -> ProvisionalAnswer:
    owner = answer.owner
    brokers = []
    for r in answer.broker_protection:
        referral_id, broker_id = _id(r.referral_id), _id(r.broker_id)
        if referral_id is not None and broker_id is not None and r.state in (
                "pending", "confirmed"):
            brokers.append(ProvisionalBroker(referral_id=referral_id, broker_id=broker_id,
                                             state=r.state))
    return ProvisionalAnswer(
        first_visit=answer.first_visit, owner_kind=owner.kind,
        owner_broker_id=_id(owner.broker_id) if owner.kind == "channel" else None,
        brokers=sorted(brokers, key=lambda b: b.referral_id)[:50],
        rule_version=answer.rule_version)


def _owner(answer: ProvisionalAnswer) -> str:
    if answer.owner_kind == "channel":
        return f"渠道（经纪人 #{answer.owner_broker_id}）"
    return _OWNER_TEXT[answer.owner_kind]


def differences(edge: ProvisionalAnswer, cloud: ProvisionalAnswer) -> list[str]:
    """Each way the cloud's answer differs from the appliance's, in Chinese (edge → cloud).
    The rule version alone is not a difference: the decision is."""
    lines = []
    if edge.first_visit != cloud.first_visit:
        lines.append(f"首访/复访：{'首访' if edge.first_visit else '复访'} → "
                     f"{'首访' if cloud.first_visit else '复访'}")
    if (edge.owner_kind, edge.owner_broker_id) != (cloud.owner_kind, cloud.owner_broker_id):
        lines.append(f"归属：{_owner(edge)} → {_owner(cloud)}")
    seen = {b.referral_id: b for b in edge.brokers}
    judged = {b.referral_id: b for b in cloud.brokers}
    for referral_id in sorted(seen.keys() | judged.keys()):
        a, b = seen.get(referral_id), judged.get(referral_id)
        if a is None and b is not None:
            lines.append(f"报备 #{referral_id}（经纪人 #{b.broker_id}）：设备未收到，"
                         f"云端为{STATE_TEXT[b.state]}")
        elif b is None and a is not None:
            lines.append(f"报备 #{referral_id}（经纪人 #{a.broker_id}）：设备认为"
                         f"{STATE_TEXT[a.state]}，云端已不在保护中")
        elif a is not None and b is not None and a.state != b.state:
            lines.append(f"报备 #{referral_id}：{STATE_TEXT[a.state]} → {STATE_TEXT[b.state]}")
    return lines
