"""Face signals in the channel's risk checks (渠道风控, domain/channel-rules.md), computed
for one referral like the other checks (cloud.channel.risk_findings) and run by the same
scan. Each finding's evidence is the sighting timeline — ids and times, never a face —
and, like every check, it only raises a case: no owner changes by itself.

- `face_before_referral`: a camera saw the customer (any gallery entry their face consent
  linked, also from before the consent, when the entry was a temporary identity) at or
  before the referral: a natural visitor later claimed by a broker.
- `face_other_broker`: after the referral, the customer's visit was guided (QR code or a
  receptionist's pick) by a broker other than the referring one, on a day a camera saw
  them arrive.

`face_unregistered` is about a site and a day, not a referral: cloud.faces.unregistered.
A co-buyer's earliest sighting is read by the joint-buyers check (cloud.deals.risk).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from cloud.channel.risk_findings import Computation, Finding, Subject
from cloud.faces.service import refs_of, sightings_of, timeline_item
from cloud.sales.models import Visit
from shared.timeutil import as_utc, iso, shanghai_date

CHECKS = frozenset({"face_before_referral", "face_other_broker", "face_unregistered"})
_GUIDED = {"qr": "扫码带看", "manual": "前台手工指定"}


def face_before_referral(s: Subject, params: dict[str, int]) -> Finding | None:
    if s.customer is None or s.customer.id is None:
        return None
    referred_at = as_utc(s.referral.created_at)
    since = referred_at - timedelta(days=params["lookback_days"])
    seen = [x for x in sightings_of(s.session, refs_of(s.session, [s.customer.id]),
                                    until=referred_at)
            if as_utc(x.last_seen_at) >= since]
    if not seen:
        return None
    first = as_utc(seen[0].first_seen_at)
    return Finding(
        f"报备前摄像头已识别该客户 {len(seen)} 次（最早 {iso(first)}），疑似自然到访客户被报备",
        [s.referral_item(), *(timeline_item(x) for x in seen)],
        {"first_seen_at": iso(first), "sightings": len(seen)})


def face_other_broker(s: Subject, params: dict[str, int]) -> Finding | None:
    if s.customer is None or s.customer.id is None:
        return None
    guided = s.session.exec(select(Visit).where(
        Visit.customer_id == s.customer.id,
        col(Visit.occurred_at) >= s.referral.created_at,
        col(Visit.broker_id).is_not(None), Visit.broker_id != s.referral.broker_id)
        .order_by(col(Visit.occurred_at))).all()
    if not guided:
        return None
    people = refs_of(s.session, [s.customer.id])
    for visit in guided:
        day = visit.visit_date
        seen = [x for x in sightings_of(s.session, [p for p in people
                                                    if p.site_id == visit.site_id])
                if shanghai_date(x.first_seen_at) == day]
        if not seen:
            continue
        return Finding(
            f"客户由经纪人 #{visit.broker_id} 带看到访（摄像头识别到访），"
            f"与报备经纪人 #{s.referral.broker_id} 不一致",
            [s.referral_item(),
             {"at": iso(as_utc(visit.occurred_at)), "kind": "visit",
              "text": f"带看到访（经纪人 #{visit.broker_id}，"
                      f"{_GUIDED.get(visit.guide_method or 'qr', '扫码带看')}）",
              "visit_id": visit.id, "broker_id": visit.broker_id},
             *(timeline_item(x) for x in seen)],
            {"visit_id": visit.id, "guide_broker_id": visit.broker_id,
             "referral_broker_id": s.referral.broker_id})
    return None


COMPUTED: dict[str, Computation] = {
    "face_before_referral": face_before_referral,
    "face_other_broker": face_other_broker,
}
