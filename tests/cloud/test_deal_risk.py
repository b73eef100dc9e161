"""The deal risk checks (渠道风控, domain/channel-rules.md "Risk checks"), worked
scenarios: a deal soon after the referral (short deal), co-buyers from another channel or
seen before the referral (joint buyers), a deal approved with no ID check and no face
record (unverified buyer), a contract signed far from the guided visit (far signing).
Each raises a case with its evidence and changes no owner. Also the facts they read:
co-buyers, the ID check and the signing place, validated and kept masked."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.catalog import geo
from cloud.channel.models import QrScan, Referral
from cloud.channel.risk_models import RiskCase
from cloud.deals.models import Deal, DealCoBuyer
from cloud.jobs.registry import jobs
from cloud.settings import CloudSettings
from shared import qr
from shared.events import QR_CHECKED_IN, VISIT_REGISTERED
from shared.timeutil import as_utc, utcnow
from tests.cloud import audit_rows, risk_world, signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.deal_world import Office, add_customer, approved, build_office, subscribe
from tests.cloud.face_world import CONSENT, SIGHTED, consent, send, sighted
from tests.cloud.migration_drift import drift
from tests.cloud.sales_world import apply, envelope
from tests.cloud.test_channel_qr import checkin, referral_and_code, visit

BUYER, CO_BUYER = "13655550001", "13655550002"


def _referral(api: TestClient, broker: str, project_id: int, phone: str,
              db: Session, *, hours_ago: float = 0) -> Referral:
    answer = refer(api, signed_in(api, broker), project_id, phone)
    assert answer.status_code == 201, answer.text
    if hours_ago:
        at = utcnow() - timedelta(hours=hours_ago)
        db.execute(update(Referral).where(col(Referral.id) == answer.json()["id"])
                   .values(created_at=at, decided_at=at))
        db.commit()
    row = db.get(Referral, answer.json()["id"], populate_existing=True)
    assert row is not None
    return row


def _buyer(db: Session, settings: CloudSettings, cw: ChannelWorld, office: Office,
           phone: str) -> int:
    return add_customer(db, settings, office.project_id, phone,
                        cw.sales["consult_a"]).id or 0


def _sell(api: TestClient, office: Office, customer_id: int, unit: int, *,
          co_buyers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    answer = api.post(f"/api/v1/deals/projects/{office.project_id}/deals",
                      headers=signed_in(api, "consult_a"), json={
                          "kind": "subscription", "customer_id": customer_id,
                          "unit_id": office.unit(unit).id, "buyer_name": "王芳",
                          "payment_method": "full",
                          "price_fen": office.unit(unit).list_price_fen,
                          "amount_fen": 5_000_000, "co_buyers": co_buyers or []})
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _approve(db: Session, settings: CloudSettings, office: Office, deal_id: int) -> Deal:
    deal = db.get(Deal, deal_id, populate_existing=True)
    assert deal is not None
    return approved(db, settings, office, deal)


def _scan(db: Session, settings: CloudSettings) -> None:
    jobs()["channel.risk_scan"].run(db, settings)
    db.commit()


def _cases(db: Session, code: str, referral_id: int | None) -> list[RiskCase]:
    db.rollback()
    return list(db.exec(select(RiskCase).where(RiskCase.check_code == code,
                                               RiskCase.referral_id == referral_id)).all())


def test_a_deal_within_hours_of_the_referral_raises_a_case(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    # Referred at once before the subscription: a deal the same hour.
    quick = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=2)
    deal = subscribe(db, settings, office, office.unit(0),
                     customer_id=_buyer(db, settings, cw, office, BUYER))
    approved(db, settings, office, deal)
    # Referred 30 hours before: past the default 24 hours.
    slow = _referral(api, "broker_a2", office.project_id, CO_BUYER, db, hours_ago=30)
    later = subscribe(db, settings, office, office.unit(1),
                      customer_id=_buyer(db, settings, cw, office, CO_BUYER))
    approved(db, settings, office, later)

    before = db.get(Referral, quick.id, populate_existing=True)
    assert before is not None
    state = (before.state, before.reason_code)
    _scan(db, settings)
    [case] = _cases(db, "short_deal", quick.id)
    assert (case.stage, case.severity) == ("confirmation", "review")
    assert 1.9 <= case.evidence["gap_hours"] <= 2.1 and case.evidence["deal_id"] == deal.id
    assert [i["kind"] for i in case.evidence["timeline"]] == ["referral", "deal"]
    assert _cases(db, "short_deal", slow.id) == []
    # The case changed no owner.
    stands = db.get(Referral, quick.id, populate_existing=True)
    assert stands is not None and (stands.state, stands.reason_code) == state

    # A project that allows 48 hours catches the slower one too.
    manager = signed_in(api, "cm_a")
    assert api.put(f"/api/v1/channel/projects/{office.project_id}/risk-policy",
                   headers=manager, json={"checks": {"short_deal": {
                       "params": {"hours": 48}}}}).status_code == 200
    _scan(db, settings)
    assert len(_cases(db, "short_deal", slow.id)) == 1


def test_co_buyers_from_another_channel_or_seen_before_the_referral_raise_a_case(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    # Agency A refers the buyer; agency B had referred the co-buyer.
    _referral(api, "broker_b1", office.project_id, CO_BUYER, db, hours_ago=5)
    claimed = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=3)
    sold = _sell(api, office, _buyer(db, settings, cw, office, BUYER), 0,
                 co_buyers=[{"name": "李雷", "phone": CO_BUYER}])
    _approve(db, settings, office, sold["id"])

    # Another buyer's co-buyer walked in by themselves a day before the referral: the
    # office registered them, the camera saw them, they consented to face use.
    third, fourth = "13655550003", "13655550004"
    self_visit = _referral(api, "broker_a1", office.project_id, third, db, hours_ago=2)
    referred_at = as_utc(self_visit.created_at)
    walked = referred_at - timedelta(days=1)
    co_customer = risk_world.add_customer(db, settings, project_id=office.project_id,
                                          phone=fourth, first_at=walked)
    visit = risk_world.add_visit(db, co_customer, walked)
    face = uuid.uuid4()
    site = cw.sales["site-a"]
    send(db, settings, site, "site-a", [
        (SIGHTED, sighted(face, walked, walked + timedelta(minutes=5), 2)),
        (CONSENT, consent(face, visit.id, walked + timedelta(minutes=10)))])
    second = _sell(api, office, _buyer(db, settings, cw, office, third), 1,
                   co_buyers=[{"name": "韩梅梅", "phone": fourth}])
    _approve(db, settings, office, second["id"])
    [co_row] = db.exec(select(DealCoBuyer).where(DealCoBuyer.deal_id == second["id"])).all()
    assert co_row.customer_id == co_customer.id  # linked by the blind index

    _scan(db, settings)
    [case] = _cases(db, "joint_buyers", claimed.id)
    [co] = case.evidence["co_buyers"]
    assert co["reasons"] == ["other_channel"] and co["phone_masked"] == "136****0002"
    assert case.evidence["self_visit"] is False
    assert "co_buyer_referral" in [i["kind"] for i in case.evidence["timeline"]]
    [case] = _cases(db, "joint_buyers", self_visit.id)
    [co] = case.evidence["co_buyers"]
    assert co["reasons"] == ["office_before_referral", "seen_before_referral"]
    assert case.evidence["self_visit"] is True and "自然到访" in case.summary
    kinds = [i["kind"] for i in case.evidence["timeline"]]
    assert kinds[:2] == ["co_buyer_visit", "sighting"] and kinds[-1] == "referral"
    assert "image" not in case.evidence["timeline"][1]


def test_co_buyers_are_validated_masked_and_audited(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    buyer = _buyer(db, settings, cw, office, BUYER)
    seller = signed_in(api, "consult_a")
    url = f"/api/v1/deals/projects/{office.project_id}/deals"
    body = {"kind": "subscription", "customer_id": buyer, "unit_id": office.unit(0).id,
            "buyer_name": "王芳", "payment_method": "full",
            "price_fen": office.unit(0).list_price_fen}
    for co_buyers, code in (
            ([{"name": "李雷", "phone": "12345"}], "invalid_phone"),
            ([{"name": "李雷", "phone": BUYER}], "deal_co_buyer_invalid"),
            ([{"name": "李雷", "phone": CO_BUYER}, {"name": "李", "phone": CO_BUYER}],
             "deal_co_buyer_invalid"),
            ([{"name": "甲", "phone": f"1365555100{i}"} for i in range(5)],
             "validation_failed")):
        refused = api.post(url, headers=seller, json={**body, "co_buyers": co_buyers})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["title"])
    made = api.post(url, headers=seller, json={**body, "co_buyers": [
        {"name": "李雷", "phone": "136-5555-0002"}]})
    assert made.status_code == 201, made.text
    deal_id = made.json()["id"]
    changed = api.put(f"/api/v1/deals/{deal_id}/co-buyers", headers=seller,
                      json={"co_buyers": [{"name": "韩梅梅", "phone": "13655550009"}]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["co_buyers"] == [
        {"name": "韩**", "phone_masked": "136****0009", "customer_id": None}]
    [row] = db.exec(select(DealCoBuyer).where(DealCoBuyer.deal_id == deal_id)).all()
    assert "13655550009" not in row.phone_enc and "韩梅梅" not in row.name_enc
    audit = [r.detail for r in audit_rows(db, "deal.co_buyers")]
    assert audit[-1]["co_buyers"] == ["136****0009"] and "13655550009" not in str(audit)
    # Once submitted, co-buyers change through a change request.
    assert api.post(f"/api/v1/deals/{deal_id}/submit", headers=seller).status_code == 200
    locked = api.put(f"/api/v1/deals/{deal_id}/co-buyers", headers=seller,
                     json={"co_buyers": []})
    assert (locked.status_code, locked.json()["code"]) == (409, "deal_co_buyers_locked")


def test_a_deal_approved_without_an_id_check_or_face_record_raises_a_case(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    unchecked = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=48)
    first = _sell(api, office, _buyer(db, settings, cw, office, BUYER), 0)
    _approve(db, settings, office, first["id"])
    checked = _referral(api, "broker_a2", office.project_id, CO_BUYER, db, hours_ago=48)
    second = _sell(api, office, _buyer(db, settings, cw, office, CO_BUYER), 1)
    seller = signed_in(api, "consult_a")
    url = f"/api/v1/deals/{second['id']}/id-check"
    bad = api.post(url, headers=seller, json={"id_type": "resident_id",
                                              "id_number": "110101199003070000"})
    assert (bad.status_code, bad.json()["code"]) == (422, "deal_id_number_invalid")
    assert "校验位" in bad.json()["detail"]
    wrong_type = api.post(url, headers=seller, json={"id_type": "driver", "id_number": "1"})
    assert wrong_type.status_code == 422
    done = api.post(url, headers=seller, json={"id_type": "resident_id",
                                               "id_number": "11010119900307803x"})
    assert done.status_code == 200, done.text
    assert done.json()["id_check"]["id_masked"] == "****803X"
    row = db.get(Deal, second["id"], populate_existing=True)
    assert row is not None and row.id_bidx and "110101" not in str(row.model_dump())
    [audited] = audit_rows(db, "deal.id_check")
    assert "110101" not in str(audited.detail)
    _approve(db, settings, office, second["id"])

    _scan(db, settings)
    [case] = _cases(db, "unverified_buyer", unchecked.id)
    assert case.evidence["deal_id"] == first["id"] and case.severity == "review"
    assert _cases(db, "unverified_buyer", checked.id) == []


def test_a_consented_sighting_of_the_buyer_counts_as_verified(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    referral = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=48)
    at = as_utc(referral.created_at) + timedelta(hours=1)
    customer = risk_world.add_customer(db, settings, project_id=office.project_id,
                                       phone=BUYER, first_at=at)
    customer.owner_id = cw.sales["consult_a"]
    db.add(customer)
    db.commit()
    visit = risk_world.add_visit(db, customer, at)
    face = uuid.uuid4()
    send(db, settings, cw.sales["site-a"], "site-a", [
        (SIGHTED, sighted(face, at, at + timedelta(minutes=3), subject="customer")),
        (CONSENT, consent(face, visit.id, at))])
    _approve(db, settings, office, _sell(api, office, customer.id or 0, 0)["id"])
    _scan(db, settings)
    assert _cases(db, "unverified_buyer", referral.id) == []


def _guided_at(db: Session, referral: Referral, lat: float, lng: float) -> None:
    """The kiosk's accepted QR check-in of the referral, with its position, as the sync
    handler stores it (cloud.channel.sync_events)."""
    db.add(QrScan(event_id=str(uuid.uuid4()), site_id="site-a",
                  project_id=referral.project_id, referral_id=referral.id,
                  broker_id=referral.broker_id, key_id="k1", nonce=uuid.uuid4().hex,
                  accepted_nonce=uuid.uuid4().hex, outcome="accepted", reason_code="ok",
                  scanned_at=utcnow() - timedelta(hours=20), lat=lat, lng=lng))
    db.commit()


def _contract(api: TestClient, db: Session, settings: CloudSettings, office: Office,
              customer_id: int, unit: int, place: dict[str, float] | None) -> dict[str, Any]:
    sold = _sell(api, office, customer_id, unit)
    _approve(db, settings, office, sold["id"])
    seller = signed_in(api, "consult_a")
    made = api.post(f"/api/v1/deals/{sold['id']}/convert", headers=seller, json={
        "payment_method": "full", "amount_fen": 0, "signing_location": place})
    assert made.status_code == 201, made.text
    _approve(db, settings, office, made.json()["id"])
    found: dict[str, Any] = made.json()
    return found


def test_a_contract_signed_far_from_the_guided_visit_raises_a_flag(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    office_place = (31.2304, 121.4737)
    far = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=48)
    _guided_at(db, far, *office_place)
    # About 1.1 km north of the office: past the default 500 m.
    contract = _contract(api, db, settings, office, _buyer(db, settings, cw, office, BUYER),
                         0, {"lat": 31.2404, "lng": 121.4737})
    assert contract["signing_location"] == {"lat": 31.2404, "lng": 121.4737}
    near = _referral(api, "broker_a2", office.project_id, CO_BUYER, db, hours_ago=48)
    _guided_at(db, near, *office_place)
    _contract(api, db, settings, office, _buyer(db, settings, cw, office, CO_BUYER), 1,
              {"lat": 31.2334, "lng": 121.4737})  # about 330 m
    # No signing place given: nothing to compare, nothing raised.
    third = "13655550003"
    unknown = _referral(api, "broker_a2", office.project_id, third, db, hours_ago=48)
    _guided_at(db, unknown, *office_place)
    _contract(api, db, settings, office, _buyer(db, settings, cw, office, third), 2, None)

    _scan(db, settings)
    [case] = _cases(db, "far_signing", far.id)
    assert case.severity == "flag" and 1_050 <= case.evidence["distance_m"] <= 1_150
    assert [i["kind"] for i in case.evidence["timeline"]] == ["referral", "qr_scan", "deal"]
    assert _cases(db, "far_signing", near.id) == []
    assert _cases(db, "far_signing", unknown.id) == []


def test_the_kiosks_position_with_a_check_in_is_kept_for_the_check(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    """What `_guided_at` stands for: an accepted check-in event carrying the kiosk's
    position stores it on the scan; one out of range is refused like any bad event."""
    referral_id, token = referral_and_code(api, cw)
    claims = qr.read_claims(token)
    site = cw.sales["site-a"]
    wrong, right = str(uuid.uuid4()), str(uuid.uuid4())
    bad = apply(db, settings, "site-a", [envelope(
        site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
        {**checkin(cw, claims, wrong), "lat": 95.0, "lng": 121.47})])
    assert len(bad.rejected) == 1
    assert db.exec(select(QrScan)).all() == []
    good = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, right)),
        envelope(site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
                 {**checkin(cw, claims, right), "lat": 31.2304, "lng": 121.4737})])
    assert good.rejected == []
    scan = db.exec(select(QrScan)).one()
    assert (scan.referral_id, scan.outcome, scan.lat, scan.lng) == (
        referral_id, "accepted", 31.2304, 121.4737)


def test_a_signing_place_is_validated(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    sold = _sell(api, office, _buyer(db, settings, cw, office, BUYER), 0)
    _approve(db, settings, office, sold["id"])
    seller = signed_in(api, "consult_a")
    url = f"/api/v1/deals/{sold['id']}/convert"
    out_of_range = api.post(url, headers=seller, json={
        "payment_method": "full", "signing_location": {"lat": 91, "lng": 121.4}})
    assert out_of_range.status_code == 422
    pledge = api.post(f"/api/v1/deals/projects/{office.project_id}/deals", headers=seller,
                      json={"kind": "pledge", "customer_id": sold["customer_id"],
                            "buyer_name": "王芳", "payment_method": "full"})
    assert pledge.status_code == 201, pledge.text
    _approve(db, settings, office, pledge.json()["id"])
    misplaced = api.post(f"/api/v1/deals/{pledge.json()['id']}/convert", headers=seller,
                         json={"payment_method": "full", "unit_id": office.unit(1).id,
                               "price_fen": office.unit(1).list_price_fen,
                               "signing_location": {"lat": 31.2, "lng": 121.4}})
    assert (misplaced.status_code, misplaced.json()["code"]) == (
        422, "deal_signing_location_misplaced")


@pytest.mark.parametrize(("a", "b", "metres"), [
    ((31.2304, 121.4737), (31.2304, 121.4737), 0.0),
    ((0.0, 0.0), (1.0, 0.0), 111_195.0),  # one degree of a meridian
    ((39.9087, 116.3975), (31.2304, 121.4737), 1_067_000.0),  # 天安门 → 人民广场
    ((0.0, 0.0), (0.0, 180.0), 20_015_115.0),  # half the equator
])
def test_haversine_distances(a: tuple[float, float], b: tuple[float, float],
                             metres: float) -> None:
    assert geo.distance_m(a, b) == pytest.approx(metres, rel=0.002, abs=0.5)
    assert geo.distance_m(b, a) == pytest.approx(geo.distance_m(a, b))


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, {"deal", "deal_co_buyer", "channel_qr_scan"}) == []
