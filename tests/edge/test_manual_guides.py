"""带看 without a code (issue #21, ADR 0030): the receptionist picks the broker by hand
among the live referrals of the visitor's number cached here — offline, masked — and the
registration writes the visit and its `channel.guide_picked` event in one transaction,
once however often it is retried. A plain registration carries the provisional answer up.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store.models.guided import ReferralCache
from shared import qr
from shared.envelope import DownItem
from shared.timeutil import iso, utcnow
from tests.edge.seed import project, seed
from tests.edge.test_guided_visits import (
    AUTH,
    BROKER,
    PHONE,
    REFERRAL,
    channel_items,
    code,
    events,
    register,
)


def masked_referral(settings: EdgeSettings, rid: int = 42, broker: int = 8) -> DownItem:
    now = utcnow()
    return DownItem(offset=5, kind="referral", key=str(rid), data={
        "id": rid, "project_id": 1, "broker_id": broker, "agency_id": None,
        "state": "pending", "reason_code": "pending_confirmation",
        "phone_masked": "138****8000", "masked": True,
        "phone_key": qr.phone_key(settings.blind_index, PHONE), "rule_version": 1,
        "created_at": iso(now - timedelta(hours=3)),
        "protection_until": iso(now + timedelta(hours=60)),
        "broker_name": "李*", "broker_phone_masked": "139****0002", "agency_name": None})


@pytest.fixture
def client(edge_settings: EdgeSettings) -> Any:
    items = channel_items(edge_settings)
    items[-1].data.update({"broker_name": "王*", "broker_phone_masked": "137****0001",
                           "agency_name": "链家"})
    seed(edge_settings, [project(1, 1, "云栖府"), *items])
    # No sync agent: the appliance is offline, only its caches answer.
    with TestClient(create_app(edge_settings, sync=False)) as test_client:
        yield test_client


@pytest.fixture
def masked_client(edge_settings: EdgeSettings) -> Any:
    """Only a masked referral of the number (3+4 allowed by the project's rules)."""
    items = channel_items(edge_settings)[:2]
    items[1].data["rules"]["phone_policy"] = "3+4"
    seed(edge_settings, [project(1, 1, "云栖府"), *items, masked_referral(edge_settings)])
    with TestClient(create_app(edge_settings, sync=False)) as test_client:
        yield test_client


def guided_rows(settings: EdgeSettings) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute(
            "SELECT broker_id, referral_id, source, guide_method FROM visit").fetchall()


def test_the_candidates_are_the_cached_live_referrals_of_the_number_masked(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    found = client.get("/api/v1/kiosk/guides", params={"phone": PHONE, "project_id": 1},
                       headers=AUTH)

    assert found.status_code == 200, found.text
    [first] = found.json()
    assert (first["referral_id"], first["broker_id"]) == (REFERRAL, BROKER)
    assert (first["broker_name"], first["broker_phone_masked"], first["agency_name"]) == (
        "王*", "137****0001", "链家")
    assert first["phone_masked"] == "138****8000" and first["masked"] is False
    assert first["referral_state"] == "pending"
    # A look-up of who referred a number: audited like a customer look-up.
    assert [kind for kind, _ in events(edge_settings)] == ["customer.looked_up"]

    other = client.get("/api/v1/kiosk/guides", params={"phone": "13900139000"}, headers=AUTH)
    assert other.status_code == 200 and other.json() == []
    # Only a kiosk (its token) may ask.
    assert client.get("/api/v1/kiosk/guides", params={"phone": PHONE}).status_code == 401


def test_a_hand_picked_guide_registers_offline_with_its_event_once(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    done = register(client, "manual-0001", guide_referral_id=REFERRAL)

    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["broker_id"], body["referral_id"], body["source"], body["guide_method"]) == (
        BROKER, REFERRAL, "channel", "manual")
    # on_site confirmation: the guided visit confirms the referral, provisionally.
    assert body["attribution"]["referral_state"] == "confirmed"
    assert guided_rows(edge_settings) == [(BROKER, REFERRAL, "channel", "manual")]

    (first, visit), (second, picked) = events(edge_settings)
    assert (first, second) == ("visit.registered", "channel.guide_picked")
    assert visit["source"] == "channel"
    assert visit["edge_attribution"]["first_visit"] is True
    assert [b["referral_id"] for b in visit["edge_attribution"]["brokers"]] == [REFERRAL]
    assert picked["visit_id"] == visit["visit_id"]
    assert (picked["referral_id"], picked["broker_id"], picked["phone"]) == (
        REFERRAL, BROKER, PHONE)
    assert (picked["edge_state"], picked["edge_reason"]) == ("confirmed", "visit_confirmed")
    assert picked["tablet"]

    # The answer was lost on the way: the retry returns the same visit, writes nothing.
    again = register(client, "manual-0001", guide_referral_id=REFERRAL)
    assert again.status_code == 200 and again.json()["outcome"] == "replayed"
    assert again.json()["id"] == body["id"]
    assert len(events(edge_settings)) == 2


def test_a_hand_pick_completes_no_masked_number(masked_client: TestClient) -> None:
    """The rules page completes a masked number at the QR guided visit only: a masked
    referral picked by hand stays uncompleted, so at the visit it is invalid."""
    [listed] = masked_client.get("/api/v1/kiosk/guides", params={"phone": PHONE},
                                 headers=AUTH).json()
    assert listed["masked"] is True and listed["broker_name"] == "李*"
    done = register(masked_client, "manual-0002", guide_referral_id=42)

    assert done.status_code == 201, done.text
    answer = done.json()["attribution"]
    assert (answer["referral_state"], answer["referral_reason"]) == (
        "invalid", "completion_missing")


@pytest.mark.parametrize(("changes", "expected"), [
    ({"guide_referral_id": 999}, "guide_referral_unknown"),
    ({"guide_referral_id": REFERRAL, "phone": "13900139000"}, "guide_referral_unknown"),
    ({"guide_referral_id": REFERRAL, "qr_code": "x"}, "guide_with_qr"),
])
def test_a_pick_that_does_not_fit_registers_nothing(
    client: TestClient, edge_settings: EdgeSettings, changes: dict[str, Any], expected: str,
) -> None:
    if changes.get("qr_code"):
        changes["qr_code"] = code(edge_settings)
    response = register(client, "manual-0003", **changes)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == expected
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["detail"])
    assert guided_rows(edge_settings) == []
    assert events(edge_settings) == []


def test_a_walk_in_of_the_morning_becomes_the_hand_picked_guided_visit(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    assert register(client, "manual-0004").status_code == 201
    later = register(client, "manual-0005", guide_referral_id=REFERRAL)

    assert later.json()["outcome"] == "same_day_existing"
    assert guided_rows(edge_settings) == [(BROKER, REFERRAL, "channel", "manual")]
    assert [kind for kind, _ in events(edge_settings)] == [
        "visit.registered", "channel.guide_picked"]


def test_the_down_feed_keeps_the_masked_broker_names(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    with sqlite3.connect(edge_settings.database_path) as db:
        names = db.execute(
            f"SELECT broker_name, broker_phone_masked, agency_name FROM "
            f"{ReferralCache.__tablename__} ORDER BY id").fetchall()
    assert names == [("王*", "137****0001", "链家")]


def test_a_referral_whose_window_ran_out_is_neither_offered_picked_nor_scanned(
    edge_settings: EdgeSettings,
) -> None:
    """The cloud sends nothing when a window ends (ADR 0058): the cached item still says
    `active` and `pending`, and its `protection_until` alone makes it dead here."""
    items = channel_items(edge_settings)
    ended = iso(utcnow() - timedelta(minutes=1))
    items[-1] = items[-1].model_copy(
        update={"data": {**items[-1].data, "protection_until": ended}})
    seed(edge_settings, [project(1, 1, "云栖府"), *items])
    with TestClient(create_app(edge_settings, sync=False)) as client:
        offered = client.get("/api/v1/kiosk/guides", params={"phone": PHONE, "project_id": 1},
                             headers=AUTH)
        picked = register(client, "manual-0006", guide_referral_id=REFERRAL)
        scanned = register(client, "manual-0007", qr_code=code(edge_settings))
        walk_in = register(client, "manual-0008")

    assert offered.status_code == 200 and offered.json() == []
    assert picked.json()["code"] == "guide_referral_unknown"
    assert scanned.json()["code"] == "qr_referral_unknown"
    # Nor does the provisional answer count it: the visitor is nobody's.
    assert walk_in.status_code == 201, walk_in.text
    assert guided_rows(edge_settings) == [(None, None, "natural", None)]
