"""Deal signals in the channel's risk checks (渠道风控, domain/channel-rules.md),
computed for one referral like the other checks (cloud.channel.risk_findings) and run by
the same scan (ADR 0055). The referral's customer is the buyer; their documents are
what the checks read. Each only raises a case with its evidence: no owner changes.

- `short_deal`: the buyer's first subscription or contract approved (成交) within
  `hours` of the referral.
- `joint_buyers`: a co-buyer (共同购买人) of the buyer's documents was referred by
  another channel, registered by the office as a natural visitor before the referral,
  or seen by a camera before it (their earliest consented sighting): a self-visit deal.
- `unverified_buyer`: a document approved without the buyer's ID checked at the office
  and without any consented face sighting of the buyer at the project's site.
- `far_signing`: a contract signed more than `distance_m` from where the referral's
  guided visit was confirmed; only when both places are known — a device's position or
  the office's configured one (cloud.catalog.position, ADR 0060).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from cloud.catalog import geo, position
from cloud.catalog.models import Project
from cloud.channel.models import Broker, QrScan, Referral
from cloud.channel.risk_findings import Computation, Finding, Subject, item
from cloud.channel.risk_scan import LIVE
from cloud.deals.models import Deal, DealCoBuyer
from cloud.deals.states import KIND_NAMES, Kind, Status
from cloud.faces.service import refs_of, sightings_of, timeline_item
from cloud.sales.models import Visit
from shared.timeutil import as_utc

CHECKS = frozenset({"short_deal", "joint_buyers", "unverified_buyer", "far_signing"})
_SOLD = (Kind.SUBSCRIPTION.value, Kind.CONTRACT.value)


def _approved(s: Subject) -> list[Deal]:
    """The buyer's subscriptions and contracts approved at or after the referral."""
    if s.customer is None:
        return []
    return list(s.session.exec(select(Deal).where(
        Deal.customer_id == s.customer.id, col(Deal.kind).in_(_SOLD),
        col(Deal.approved_at) >= s.referral.created_at)
        .order_by(col(Deal.approved_at), col(Deal.id))).all())


def _deal_item(deal: Deal, at: datetime, what: str) -> dict[str, Any]:
    return item(at, "deal", f"{KIND_NAMES[Kind(deal.kind)]}{what}（单据 #{deal.id}）",
                deal_id=deal.id)


def short_deal(s: Subject, params: dict[str, int]) -> Finding | None:
    deals = _approved(s)
    if not deals or deals[0].approved_at is None:
        return None
    first, at = deals[0], as_utc(deals[0].approved_at)
    gap = at - as_utc(s.referral.created_at)
    if gap.total_seconds() > params["hours"] * 3600:
        return None
    hours = round(gap.total_seconds() / 3600, 1)
    return Finding(
        f"报备后 {hours} 小时即成交（{KIND_NAMES[Kind(first.kind)]}审批通过，"
        f"阈值 {params['hours']} 小时）",
        [s.referral_item(), _deal_item(first, at, "审批通过")],
        {"gap_hours": hours, "deal_id": first.id})


def joint_buyers(s: Subject, params: dict[str, int]) -> Finding | None:
    del params
    if s.customer is None:
        return None
    ref_at = as_utc(s.referral.created_at)
    co_buyers = s.session.exec(select(DealCoBuyer).join(
        Deal, col(Deal.id) == DealCoBuyer.deal_id).where(
        Deal.customer_id == s.customer.id, col(Deal.submitted_at).is_not(None),
        Deal.status != Status.CANCELLED.value).order_by(col(DealCoBuyer.id))).all()
    seen: set[str] = set()
    timeline: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    self_visit = False
    for co in co_buyers:
        if co.phone_bidx in seen:
            continue
        seen.add(co.phone_bidx)
        reasons, items = _co_buyer_signals(s, co, ref_at)
        if reasons:
            self_visit = self_visit or "seen_before_referral" in reasons
            found.append({"phone_masked": co.phone_masked, "customer_id": co.customer_id,
                          "deal_id": co.deal_id, "reasons": reasons})
            timeline.extend(items)
    if not found:
        return None
    texts = {"other_channel": "来自其他渠道", "office_before_referral": "报备前已由案场登记",
             "seen_before_referral": "报备前已被摄像头识别"}
    summary = "；".join(f"共同购买人 {f['phone_masked']}" + "、".join(
        texts[r] for r in f["reasons"]) for f in found)
    if self_visit:
        summary += "，疑似自然到访成交"
    return Finding(summary, [s.referral_item(), *timeline],
                   {"co_buyers": found, "self_visit": self_visit})


def _co_buyer_signals(s: Subject, co: DealCoBuyer, ref_at: datetime
                      ) -> tuple[list[str], list[dict[str, Any]]]:
    reasons: list[str] = []
    items: list[dict[str, Any]] = []
    others = [r for r in s.session.exec(select(Referral).where(
        Referral.project_id == s.referral.project_id, Referral.phone_bidx == co.phone_bidx,
        col(Referral.state).in_(LIVE))).all()
        if _channel(s, r.broker_id) != _channel(s, s.referral.broker_id)]
    if others:
        reasons.append("other_channel")
        items.extend(item(r.created_at, "co_buyer_referral",
                          f"共同购买人 {co.phone_masked} 由经纪人 #{r.broker_id} 报备",
                          referral_id=r.id, broker_id=r.broker_id) for r in others)
    if co.customer_id is None:
        return reasons, items
    natural = s.session.exec(select(Visit).where(
        Visit.customer_id == co.customer_id, col(Visit.broker_id).is_(None),
        col(Visit.occurred_at) < ref_at).order_by(col(Visit.occurred_at))).first()
    if natural is not None:
        reasons.append("office_before_referral")
        items.append(item(natural.occurred_at, "co_buyer_visit",
                          f"共同购买人 {co.phone_masked} 自然到访登记", visit_id=natural.id))
    sightings = sightings_of(s.session, refs_of(s.session, [co.customer_id]), until=ref_at)
    if sightings:
        reasons.append("seen_before_referral")
        items.append(timeline_item(sightings[0]))
    return reasons, items


def _channel(s: Subject, broker_id: int) -> str:
    """A broker's channel: their agency; an individual referrer is a channel alone."""
    broker = s.session.get(Broker, broker_id)
    if broker is None or broker.agency_id is None:
        return f"broker:{broker_id}"
    return f"agency:{broker.agency_id}"


def unverified_buyer(s: Subject, params: dict[str, int]) -> Finding | None:
    del params
    deals = _approved(s)
    if s.customer is None or not deals:
        return None
    checked = s.session.exec(select(Deal.id).where(
        Deal.customer_id == s.customer.id, col(Deal.id_checked_at).is_not(None))).first()
    if checked is not None:
        return None
    site = s.session.exec(select(Project.site_id).where(
        Project.id == s.referral.project_id)).one()
    people = [p for p in refs_of(s.session, [s.customer.id or 0]) if p.site_id == site]
    if sightings_of(s.session, people):
        return None
    first = deals[0]
    assert first.approved_at is not None
    return Finding(
        f"{KIND_NAMES[Kind(first.kind)]}已审批通过，但案场未核验购房人证件，也没有购房人的"
        "人脸到访记录",
        [s.referral_item(), _deal_item(first, first.approved_at, "审批通过，未核验证件")],
        {"deal_id": first.id, "face_sightings": 0})


def far_signing(s: Subject, params: dict[str, int]) -> Finding | None:
    contract, signed = _signed(s)
    guided, confirmed = _confirmed(s)
    if contract is None or signed is None or guided is None or confirmed is None:
        return None
    apart = geo.distance_m((signed.lat, signed.lng), (confirmed.lat, confirmed.lng))
    if apart <= params["distance_m"]:
        return None
    metres = round(apart)
    names = position.SOURCE_NAMES
    return Finding(
        f"签约地点（{names[signed.source]}）距带看确认地点（{names[confirmed.source]}）"
        f"{metres} 米（阈值 {params['distance_m']} 米）",
        [s.referral_item(),
         item(guided.scanned_at, "qr_scan",
              f"{'扫码带看确认' if guided.method == 'qr' else '前台手工指定带看'}，确认地点："
              f"{_place_text(confirmed)}", qr_scan_id=guided.id, **_where(confirmed)),
         _deal_item(contract, contract.approved_at or contract.created_at,
                    f"，签约地点：{_place_text(signed)}") | _where(signed)],
        {"distance_m": metres, "deal_id": contract.id, "qr_scan_id": guided.id,
         "confirmation": _where(confirmed) | {"site_id": guided.site_id},
         "signing": _where(signed)})


def _where(place: position.Place) -> dict[str, Any]:
    return {"lat": place.lat, "lng": place.lng, "source": place.source}


def _place_text(place: position.Place) -> str:
    return f"{position.SOURCE_NAMES[place.source]} {place.lat:.5f}, {place.lng:.5f}"


def _signed(s: Subject) -> tuple[Deal | None, position.Place | None]:
    """The buyer's first approved contract with a known signing place, and that place: its
    own coordinates, or — signed 「在案场」 before the office had a position — the office's
    position now."""
    for deal in _approved(s):
        if deal.kind != Kind.CONTRACT.value or deal.signed_place_source is None:
            continue
        if deal.signed_lat is not None and deal.signed_lng is not None:
            return deal, position.Place(deal.signed_lat, deal.signed_lng,
                                        deal.signed_place_source)
        site = s.session.exec(select(Project.site_id).where(
            Project.id == deal.project_id)).one()
        place = position.of_site(s.session, site)
        if place is not None:
            return deal, place
    return None, None


def _confirmed(s: Subject) -> tuple[QrScan | None, position.Place | None]:
    """The referral's first accepted guide (a code or a hand pick at the kiosk) with a known
    place, and that place: its recorded one (coordinates without a source predate 0048
    and came from the device), or — confirmed before the office had a position — the
    office's position now."""
    for guided in s.session.exec(select(QrScan).where(
            QrScan.referral_id == s.referral.id, QrScan.outcome == "accepted")
            .order_by(col(QrScan.scanned_at), col(QrScan.id))).all():
        if guided.lat is not None and guided.lng is not None:
            return guided, position.Place(guided.lat, guided.lng,
                                          guided.position_source or "device")
        place = position.of_site(s.session, guided.site_id)
        if place is not None:
            return guided, place
    return None, None


COMPUTED: dict[str, Computation] = {
    "short_deal": short_deal,
    "joint_buyers": joint_buyers,
    "unverified_buyer": unverified_buyer,
    "far_signing": far_signing,
}
