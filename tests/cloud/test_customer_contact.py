"""Keeping in touch with a customer: the last effective contact the 7-day rule runs from
(visits, effective follow-ups by either path, told to the appliance), and revealing the
number to call — at the cloud for one's own customer, and from the appliance through the
`contact.revealed` event — always audited."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from cloud.sync.models import DownFeed
from shared.events import CONTACT_REVEALED, FOLLOWUP_RECORDED
from shared.timeutil import as_utc, utcnow
from tests.cloud import audit_rows, problem, signed_in
from tests.cloud.sales_world import PHONE_A, apply, body, envelope, follow_up_event, post


def customer(db: Session, customer_id: int) -> Customer:
    db.rollback()
    found = db.get(Customer, customer_id, populate_existing=True)
    assert found is not None
    return found


def feed_items(db: Session, site_id: str) -> list[dict[str, Any]]:
    return [row.data for row in db.exec(select(DownFeed).where(
        DownFeed.site_id == site_id, DownFeed.kind == "customer").order_by(
        col(DownFeed.offset))).all()]


def test_the_last_effective_contact_follows_visits_and_effective_follow_ups(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    start = customer(db, site.customer_id)
    assert start.last_effective_at == start.last_visit_at  # the visit itself
    announced = len(feed_items(db, "site-a"))

    # A call that did not reach the customer changes nothing.
    missed = body(site, kind="call", reached=False, note="", next_at=None)
    assert post(client, signed_in(client, "consult_a"), missed).status_code == 201
    assert customer(db, site.customer_id).last_effective_at == start.last_visit_at
    assert len(feed_items(db, "site-a")) == announced

    # One that did, straight at the cloud: the clock restarts and the appliance is told.
    reached_at = utcnow()  # after the visit the world was built with
    data = body(site, occurred_at=reached_at.isoformat(), next_at=None)
    assert post(client, signed_in(client, "consult_a"), data).status_code == 201
    after_route = customer(db, site.customer_id).last_effective_at
    assert after_route is not None and abs(after_route - reached_at) < timedelta(seconds=1)
    items = feed_items(db, "site-a")
    assert len(items) == announced + 1
    assert items[-1]["last_effective_at"].startswith(as_utc(after_route).strftime("%Y-%m-%dT%H:%M"))

    # Through the appliance: an older effective follow-up does not move it back...
    older = follow_up_event(site, world["consult_a"],
                            occurred_at=(utcnow() - timedelta(days=2)).isoformat())
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            FOLLOWUP_RECORDED, older)])
    assert customer(db, site.customer_id).last_effective_at == after_route
    # ...a newer one does, and is announced with the run.
    newer = follow_up_event(site, world["consult_a"], occurred_at=utcnow().isoformat())
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            FOLLOWUP_RECORDED, newer)])
    latest = customer(db, site.customer_id).last_effective_at
    assert latest is not None and latest > after_route
    assert feed_items(db, "site-a")[-1]["last_effective_at"] is not None


def test_a_consultant_reveals_only_their_own_customers_number_and_it_is_audited(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    path = f"/api/v1/customers/{site.customer_id}/contact"
    mine = client.post(path, json={"reason": "电话回访"}, headers=signed_in(client, "consult_a"))
    assert mine.status_code == 200 and mine.json()["phone"] == PHONE_A
    colleague = client.post(path, json={"reason": "电话回访"},
                            headers=signed_in(client, "consult_a2"))
    assert colleague.status_code == 403
    assert problem(colleague)["code"] == "not_customer_owner"
    other_site = client.post(path, json={"reason": "电话回访"},
                             headers=signed_in(client, "consult_b"))
    assert other_site.status_code == 404
    reception = client.post(path, json={"reason": "电话回访"},
                            headers=signed_in(client, "reception_a"))
    assert reception.status_code == 403
    [row] = audit_rows(db, "customer.unmask")
    assert (row.actor, row.object_id) == ("consult_a", str(site.customer_id))
    assert row.detail["purpose"] == "call" and row.detail["reason"] == "电话回访"


def test_a_reveal_on_the_appliance_lands_in_the_cloud_audit_log(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    shown_at = utcnow() - timedelta(hours=1)  # while the WAN was down
    events = [
        {"project_id": site.project_id, "phone": PHONE_A, "consultant_id": world["consult_a"],
         "reason": "电话跟进"},
        # A number the cloud has no customer for is still audited.
        {"project_id": site.project_id, "phone": "13711112222",
         "consultant_id": world["consult_a"], "reason": "电话跟进"},
    ]
    envs = []
    for payload in events:
        env = envelope(site.key, "site-a", site.next_seq(), CONTACT_REVEALED, payload)
        envs.append(env.model_copy(update={"occurred_at": shown_at}).signed(site.key))
    bad = envelope(site.key, "site-a", site.next_seq(), CONTACT_REVEALED,
                   {**events[0], "reason": "x"})
    result = apply(db, settings, "site-a", [*envs, bad])
    assert [r.reason for r in result.rejected] == ["invalid_payload"]
    rows = audit_rows(db, "customer.unmask")
    assert [(r.actor, r.actor_id, r.object_id) for r in rows] == [
        ("consult_a", world["consult_a"], str(site.customer_id)),
        ("consult_a", world["consult_a"], ""),
    ]
    assert rows[0].detail["via"] == "site:site-a" and rows[0].detail["purpose"] == "call"
    assert rows[0].detail["revealed_at"].startswith(shown_at.strftime("%Y-%m-%dT%H:%M"))
    assert rows[1].detail["phone_masked"] == "137****2222"
    applied = audit_rows(db, "sync.events_applied")[-1]
    assert applied.detail["contact_reveals"] == [str(site.customer_id), str(envs[1].event_id)]
    assert uuid.UUID(applied.detail["contact_reveals"][1])
