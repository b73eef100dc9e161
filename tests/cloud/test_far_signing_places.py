"""Where a guided visit was confirmed and where a contract was signed, when no device
could tell (ADR 0060): the sales office's configured position (案场位置), set by HQ or a
channel manager and audited, stands in for a kiosk that sent no position and for a
contract signed 「在案场」; the phone's own position is taken when its browser gave one.
Every place keeps its source, and the far-signing case shows both places, their sources
and the distance, against the project's own threshold."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.catalog import geo
from cloud.catalog.models import Site
from cloud.channel.models import QrScan, Referral
from cloud.channel.risk_models import RiskPolicy
from cloud.deals.models import Deal
from cloud.sales.models import FollowUp, Visit
from cloud.settings import CloudSettings
from shared import qr
from shared.events import GUIDE_PICKED, QR_CHECKED_IN, VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import audit_rows, signed_in
from tests.cloud.channel_world import ChannelWorld
from tests.cloud.deal_world import Office, build_office
from tests.cloud.migration_drift import drift
from tests.cloud.sales_world import apply, envelope
from tests.cloud.test_channel_guided_records import pick
from tests.cloud.test_channel_qr import checkin, referral_and_code, visit
from tests.cloud.test_deal_risk import (
    BUYER,
    CO_BUYER,
    _approve,
    _buyer,
    _cases,
    _referral,
    _scan,
    _sell,
)

# 人民广场 as a Chinese web map shows it (GCJ-02), and the WGS-84 point it stands for.
OFFICE_GCJ = (31.230416, 121.473701)
OFFICE = geo.gcj02_to_wgs84(*OFFICE_GCJ)
# About 1.1 km north of the office (WGS-84, as a phone reports it).
FAR_AWAY = {"lat": OFFICE[0] + 0.01, "lng": OFFICE[1]}
POSITION = "/api/v1/sites/site-a/position"


def _locate(api: TestClient, user: str = "cm_a", **body: Any) -> Any:
    return api.put(POSITION, headers=signed_in(api, user), json={
        "lat": OFFICE_GCJ[0], "lng": OFFICE_GCJ[1], "datum": "gcj02",
        "address": "上海市黄浦区人民大道 1 号", **body})


@pytest.mark.parametrize(("wgs", "gcj"), [
    # The reference points published with the public GCJ-02 formula (eviltransform).
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # 上海
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # 深圳
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # 北京
])
def test_gcj02_converts_both_ways(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert geo.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    assert geo.gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-6)  # ~0.1 m
    # The offset the conversion removes is hundreds of metres: worth converting.
    assert 100 < geo.distance_m(wgs, gcj) < 800


def test_bd09_converts_both_ways() -> None:
    # 天安门 as 百度地图 picks it, and the GCJ-02 point published with Baidu's formula
    # (coordtransform's example).
    bd, gcj = (39.915, 116.404), (39.90865673957631, 116.39762729119315)
    assert geo.bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1e-9)
    assert geo.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-6)
    assert geo.to_wgs84(*bd, "bd09") == pytest.approx(geo.gcj02_to_wgs84(*gcj), abs=1e-9)
    assert geo.to_wgs84(*bd, "wgs84") == bd
    # Baidu's offset from GCJ-02 is itself hundreds of metres.
    assert 500 < geo.distance_m(bd, gcj) < 1500


def test_outside_china_gcj02_is_wgs84() -> None:
    assert geo.gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)
    assert not geo.in_china(48.8566, 2.3522) and geo.in_china(*OFFICE)


def test_a_channel_manager_sets_the_offices_position_audited_in_wgs84(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    answer = _locate(api)
    assert answer.status_code == 200, answer.text
    placed = answer.json()["position"]
    assert placed["wgs84"] == pytest.approx({"lat": OFFICE[0], "lng": OFFICE[1]}, abs=1e-7)
    assert placed["gcj02"] == pytest.approx({"lat": OFFICE_GCJ[0], "lng": OFFICE_GCJ[1]},
                                            abs=1e-6)
    assert placed["address"] == "上海市黄浦区人民大道 1 号"
    site = db.get(Site, "site-a", populate_existing=True)
    assert site is not None and site.lat == pytest.approx(OFFICE[0], abs=1e-7)
    [row] = audit_rows(db, "site.position_set")
    assert row.object_id == "site-a" and row.detail["entered"]["datum"] == "gcj02"
    assert row.detail["before"] == {"lat": None, "lng": None, "address": ""}
    listed = api.get("/api/v1/sites", headers=signed_in(api, "consult_a")).json()
    assert [s["position"]["address"] for s in listed if s["id"] == "site-a"] == [
        "上海市黄浦区人民大道 1 号"]


def test_a_position_picked_on_baidu_maps_is_stored_in_wgs84(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    bd = geo.gcj02_to_bd09(*OFFICE_GCJ)
    answer = _locate(api, lat=bd[0], lng=bd[1], datum="bd09")
    assert answer.status_code == 200, answer.text
    assert answer.json()["position"]["wgs84"] == pytest.approx(
        {"lat": OFFICE[0], "lng": OFFICE[1]}, abs=1e-6)
    [row] = audit_rows(db, "site.position_set")
    assert row.detail["entered"] == {"lat": bd[0], "lng": bd[1], "datum": "bd09"}
    assert _locate(api, datum="mercator").status_code == 422


def test_a_position_outside_china_or_out_of_range_is_refused(
        api: TestClient, cw: ChannelWorld, db: Session) -> None:
    paris = _locate(api, lat=48.8566, lng=2.3522)
    assert (paris.status_code, paris.json()["code"]) == (422, "site_position_outside_china")
    # Latitude and longitude swapped: not a latitude at all.
    assert _locate(api, lat=OFFICE_GCJ[1], lng=OFFICE_GCJ[0]).status_code == 422
    assert _locate(api, user="consult_a").status_code == 403
    assert api.put("/api/v1/sites/site-b/position", headers=signed_in(api, "cm_a"), json={
        "lat": OFFICE_GCJ[0], "lng": OFFICE_GCJ[1]}).status_code == 404
    site = db.get(Site, "site-a", populate_existing=True)
    assert site is not None and site.lat is None
    assert audit_rows(db, "site.position_set") == []


def _check_in(db: Session, settings: CloudSettings, cw: ChannelWorld, token: str,
              **place: float) -> QrScan:
    site, visit_id = cw.sales["site-a"], str(uuid.uuid4())
    assert apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), QR_CHECKED_IN,
                 {**checkin(cw, qr.read_claims(token), visit_id), **place})]).rejected == []
    return db.exec(select(QrScan).where(QrScan.visit_id == visit_id)).one()


def test_a_check_in_without_a_position_is_placed_at_the_office(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    assert _locate(api).status_code == 200
    _, token = referral_and_code(api, cw)
    scan = _check_in(db, settings, cw, token)  # lat / lng null, as appliances send them
    assert (scan.lat, scan.lng, scan.position_source) == pytest.approx(
        (OFFICE[0], OFFICE[1], "site"))


def test_a_site_without_a_position_leaves_a_check_in_unplaced(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    _, token = referral_and_code(api, cw)
    scan = _check_in(db, settings, cw, token)
    assert (scan.lat, scan.lng, scan.position_source) == (None, None, None)


def test_a_kiosks_own_position_wins_over_the_offices(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    assert _locate(api).status_code == 200
    _, token = referral_and_code(api, cw)
    scan = _check_in(db, settings, cw, token, lat=31.0, lng=121.0)
    assert (scan.lat, scan.lng, scan.position_source) == (31.0, 121.0, "device")


def test_a_hand_picked_guide_at_the_kiosk_is_placed_at_the_office(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    assert _locate(api).status_code == 200
    referral_id, _ = referral_and_code(api, cw)
    site, visit_id = cw.sales["site-a"], str(uuid.uuid4())
    assert apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, visit(cw, visit_id)),
        envelope(site.key, "site-a", site.next_seq(), GUIDE_PICKED,
                 pick(cw, referral_id, visit_id))]).rejected == []
    scan = db.exec(select(QrScan).where(QrScan.referral_id == referral_id)).one()
    assert (scan.method, scan.position_source) == ("manual", "site")


def _guided(db: Session, referral: Referral, **place: Any) -> None:
    """An accepted check-in at site-a as the sync handler stores it (cloud.channel.
    sync_events): with the kiosk's position, or none (then the office's is read)."""
    db.add(QrScan(event_id=str(uuid.uuid4()), site_id="site-a",
                  project_id=referral.project_id, referral_id=referral.id,
                  broker_id=referral.broker_id, key_id="k1", nonce=uuid.uuid4().hex,
                  accepted_nonce=uuid.uuid4().hex, outcome="accepted", reason_code="ok",
                  scanned_at=referral.created_at, **place))
    db.commit()


def _contract(api: TestClient, db: Session, settings: CloudSettings, office: Office,
              customer_id: int, unit: int, **signing: Any) -> dict[str, Any]:
    sold = _sell(api, office, customer_id, unit)
    _approve(db, settings, office, sold["id"])
    made = api.post(f"/api/v1/deals/{sold['id']}/convert", headers=signed_in(api, "consult_a"),
                    json={"payment_method": "full", "amount_fen": 0, **signing})
    assert made.status_code == 201, made.text
    _approve(db, settings, office, made.json()["id"])
    found: dict[str, Any] = made.json()
    return found


def test_far_signing_compares_the_phones_place_with_the_office(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    assert _locate(api).status_code == 200
    # Guided at the office's kiosk (no position sent); signed 1.1 km away by the phone.
    far = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=48)
    _guided(db, far)
    contract = _contract(api, db, settings, office, _buyer(db, settings, cw, office, BUYER),
                         0, signing_place_source="device", signing_location=FAR_AWAY)
    assert (contract["signing_place_source"], contract["signing_location"]) == (
        "device", FAR_AWAY)
    # Guided at the office, signed 「在案场」: the office's position, no case.
    home = _referral(api, "broker_a2", office.project_id, CO_BUYER, db, hours_ago=48)
    _guided(db, home)
    at_office = _contract(api, db, settings, office,
                          _buyer(db, settings, cw, office, CO_BUYER), 1,
                          signing_place_source="site")
    assert at_office["signing_place_source"] == "site"
    assert at_office["signing_location"] == pytest.approx({"lat": OFFICE[0], "lng": OFFICE[1]})

    # The project allows 1.5 km: nothing; at 1 km the far one is raised.
    manager = signed_in(api, "cm_a")
    url = f"/api/v1/channel/projects/{office.project_id}/risk-policy"
    assert api.put(url, headers=manager, json={"checks": {"far_signing": {
        "params": {"distance_m": 1500}}}}).status_code == 200
    _scan(db, settings)
    assert _cases(db, "far_signing", far.id) == []
    assert api.put(url, headers=manager, json={"checks": {"far_signing": {
        "params": {"distance_m": 1000}}}}).status_code == 200
    _scan(db, settings)
    [case] = _cases(db, "far_signing", far.id)
    evidence = case.evidence
    assert 1_050 <= evidence["distance_m"] <= 1_150
    assert evidence["confirmation"] == pytest.approx(
        {"lat": OFFICE[0], "lng": OFFICE[1], "source": "site", "site_id": "site-a"})
    assert evidence["signing"] == {**FAR_AWAY, "source": "device"}
    assert [(i["kind"], i.get("source")) for i in evidence["timeline"]] == [
        ("referral", None), ("qr_scan", "site"), ("deal", "device")]
    assert "签约地点（设备定位）距带看确认地点（案场位置）" in case.summary
    assert _cases(db, "far_signing", home.id) == []


def test_a_contract_signed_at_an_office_without_a_position_is_compared_once_it_has_one(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    referral = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=48)
    # The kiosk knew where it stood: 1.1 km north of where the office turns out to be.
    _guided(db, referral, lat=FAR_AWAY["lat"], lng=FAR_AWAY["lng"], position_source="device")
    contract = _contract(api, db, settings, office, _buyer(db, settings, cw, office, BUYER),
                         0, signing_place_source="site")
    assert (contract["signing_place_source"], contract["signing_location"]) == ("site", None)

    assert _locate(api).status_code == 200
    _scan(db, settings)
    [case] = _cases(db, "far_signing", referral.id)
    assert 1_050 <= case.evidence["distance_m"] <= 1_150
    assert (case.evidence["signing"]["source"], case.evidence["confirmation"]["source"]) == (
        "site", "device")


def test_setting_the_offices_position_brings_its_referrals_back_to_the_scan(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    """A scan that ran while the office had no position could not compare the places; the
    position set later makes the office's live referrals due again, though nothing else
    about them changed."""
    office = build_office(db, settings, world=cw.sales)
    referral = _referral(api, "broker_a1", office.project_id, BUYER, db, hours_ago=48)
    _guided(db, referral, lat=FAR_AWAY["lat"], lng=FAR_AWAY["lng"], position_source="device")
    _contract(api, db, settings, office, _buyer(db, settings, cw, office, BUYER), 0,
              signing_place_source="site")
    # Everything about the referral is an hour old, older than any late commit.
    hour_ago = utcnow() - timedelta(hours=1)
    db.execute(update(Deal).values(updated_at=hour_ago))
    db.execute(update(Referral).values(decided_at=hour_ago))
    db.execute(update(RiskPolicy).values(updated_at=hour_ago))
    for table in (Visit, FollowUp):
        db.execute(update(table).values(created_at=hour_ago))
    db.commit()
    _scan(db, settings)
    assert _cases(db, "far_signing", referral.id) == []

    assert _locate(api).status_code == 200
    _scan(db, settings)
    [case] = _cases(db, "far_signing", referral.id)
    assert (case.evidence["signing"]["source"], case.evidence["confirmation"]["source"]) == (
        "site", "device")


def test_a_signing_place_must_agree_with_its_source(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    sold = _sell(api, office, _buyer(db, settings, cw, office, BUYER), 0)
    _approve(db, settings, office, sold["id"])
    seller = signed_in(api, "consult_a")
    url = f"/api/v1/deals/{sold['id']}/convert"
    for body in ({"signing_place_source": "site", "signing_location": FAR_AWAY},
                 {"signing_place_source": "device"}):
        refused = api.post(url, headers=seller, json={"payment_method": "full", **body})
        assert (refused.status_code, refused.json()["code"]) == (
            422, "deal_signing_place_invalid"), body
    assert api.post(url, headers=seller, json={
        "payment_method": "full", "signing_place_source": "office"}).status_code == 422


def test_models_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, {"site", "channel_qr_scan", "deal"}) == []
