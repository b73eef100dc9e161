"""The consent record at the cloud (issue #19 item 7): stored from the visit event, shown
with the visit (zone-qualified UTC) — optional for events of older agents — and the
erasure of a customer announced to their site so the appliance erases its copies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.keys import site_key
from cloud.sync.models import DownFeed, SiteLink
from shared.crypto import BlindIndex
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import make_user, signed_in
from tests.cloud.sales_world import PHONE_A, apply, envelope

REQUESTS = "/api/v1/privacy/requests"
CONSENTING_PHONE = "13700000077"


def consent_payload(**overrides: Any) -> dict[str, Any]:
    consent = {"notice_version": "2026-11-v1", "method": "kiosk_screen",
               "accepted_at": (utcnow() - timedelta(minutes=3)).isoformat(),
               "recorded_at": utcnow().isoformat(), "tablet": "192.168.10.21"}
    consent.update(overrides)
    return consent


def send_visit(db: Session, settings: CloudSettings, world: dict[str, Any],
               consent: dict[str, Any] | None) -> tuple[str, Any]:
    site = world["site-a"]
    visit_id = str(uuid.uuid4())
    payload: dict[str, Any] = {"visit_id": visit_id, "project_id": site.project_id,
                               "phone": CONSENTING_PHONE, "party_size": 1}
    if consent is not None:
        payload["consent"] = consent
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, payload)])
    return visit_id, result


def test_the_consent_is_stored_with_the_visit_and_shown_in_utc(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any],
) -> None:
    visit_id, result = send_visit(db, settings, world, consent_payload())
    assert not result.rejected
    stored = db.get(Visit, visit_id)
    assert stored is not None
    assert (stored.consent_notice_version, stored.consent_method, stored.consent_tablet) == (
        "2026-11-v1", "kiosk_screen", "192.168.10.21")
    manager = signed_in(client, "manager_a")
    page = client.get("/api/v1/visits", headers=manager).json()
    listed = {v["id"]: v for v in page["items"]}
    consent = listed[visit_id]["consent"]
    assert consent["notice_version"] == "2026-11-v1" and consent["method"] == "kiosk_screen"
    assert consent["tablet"] == "192.168.10.21"
    assert consent["accepted_at"].endswith("Z") and consent["recorded_at"].endswith("Z")
    # The customer's page shows it on the visit in the timeline too.
    timeline = client.get(f"/api/v1/customers/{stored.customer_id}/timeline",
                          headers=manager).json()
    [entry] = [e for e in timeline["items"] if e["kind"] == "visit"]
    assert entry["consent"]["notice_version"] == "2026-11-v1"


def test_a_visit_from_an_agent_older_than_v9_still_applies_with_no_consent(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any],
) -> None:
    visit_id, result = send_visit(db, settings, world, None)
    assert not result.rejected and result.acked_seq == world["site-a"].seq
    listed = {v["id"]: v for v in client.get(
        "/api/v1/visits", headers=signed_in(client, "manager_a")).json()["items"]}
    assert listed[visit_id]["consent"] is None


def test_a_malformed_consent_rejects_the_event(
    db: Session, settings: CloudSettings, world: dict[str, Any],
) -> None:
    visit_id, result = send_visit(db, settings, world, consent_payload(method="assumed"))
    assert [r.reason for r in result.rejected] and db.get(Visit, visit_id) is None


def _site_items(db: Session, key: str) -> list[DownFeed]:
    db.rollback()
    return list(db.exec(select(DownFeed).where(
        DownFeed.site_id == "site-a", DownFeed.kind == "customer", DownFeed.key == key)
        .order_by(DownFeed.offset)).all())


def test_an_erasure_is_announced_to_the_site_and_leaves_nothing_else_of_them_in_the_feed(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any],
) -> None:
    link = db.get(SiteLink, "site-a")
    assert link is not None
    bidx = BlindIndex(site_key(settings, link)).phone(PHONE_A)
    key = f"{world['site-a'].project_id}:{bidx}"
    assert _site_items(db, key)  # the synced visit announced the customer
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    officer = signed_in(client, "privacy")
    request = client.post(REQUESTS, headers=officer, json={
        "kind": "deletion", "phone": PHONE_A, "channel": "onsite"}).json()
    assert client.post(f"{REQUESTS}/{request['id']}/erase", headers=officer).status_code == 200

    [item] = _site_items(db, key)
    assert item.data == {"project_id": world["site-a"].project_id, "phone_bidx": bidx,
                         "phone_masked": "已删除", "erased": True}
    # A resync snapshot states the erasure again and no bogus row for the erased customer.
    link = db.get(SiteLink, "site-a")
    assert link is not None
    snapshot = feed.batch_after(db, settings=settings, link=link,
                                site_key=site_key(settings, link), cursor=10**9, limit=500)
    assert snapshot.resync
    customers = [i for i in snapshot.items if i.kind == "customer"]
    assert [i.key for i in customers if i.data.get("erased")] == [key]
    erased = db.exec(select(Customer).where(Customer.id == world["site-a"].customer_id)).one()
    assert erased.phone_masked == "已删除"
    assert all(i.data.get("phone_masked") != "已删除" or i.data.get("erased")
               for i in customers)
