"""A deal milestone is a fact the channel's 判客 takes: a subscription approved inside the
broker's protection locks the claim at once (保护期内成交), and the "why" answer shows
the milestone among the facts."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.channel.models import Referral
from cloud.deals.states import Kind
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import signed_in
from tests.cloud.channel_world import ChannelWorld, refer
from tests.cloud.deal_world import approved, build_office, subscribe
from tests.cloud.sales_world import apply, envelope

NEW = "13612345678"


def test_a_subscription_inside_protection_locks_the_channels_claim(
        api: TestClient, cw: ChannelWorld, db: Session, settings: CloudSettings) -> None:
    office = build_office(db, settings, world=cw.sales)
    referral = refer(api, signed_in(api, "broker_a1"), office.project_id, NEW).json()
    # Referred two hours ago, so today's visit is past the lead time (防截客).
    db.execute(update(Referral).where(col(Referral.id) == referral["id"]).values(
        created_at=utcnow() - timedelta(hours=2), decided_at=utcnow() - timedelta(hours=2)))
    db.commit()
    site = cw.sales["site-a"]
    apply(db, settings, "site-a", [envelope(site.key, "site-a", site.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": str(uuid.uuid4()), "project_id": site.project_id, "phone": NEW,
        "party_size": 1, "consultant_id": cw.sales["consult_a"]})])
    customer = db.exec(select(Customer).where(
        Customer.phone_bidx == settings.blind_index.phone(NEW))).one()

    deal = subscribe(db, settings, office, office.unit(0), customer_id=customer.id)
    assert deal.kind == Kind.SUBSCRIPTION
    approved(db, settings, office, deal)

    row = db.get(Referral, referral["id"], populate_existing=True)
    assert row is not None
    assert (row.state, row.reason_code) == ("confirmed", "deal_in_protection")
    why = api.get(f"/api/v1/channel/projects/{office.project_id}/attribution",
                  params={"customer_id": customer.id}, headers=signed_in(api, "cm_a"))
    assert why.status_code == 200, why.text
    facts = [step for step in why.json()["timelines"][0]["steps"] if step["kind"] == "deal"]
    assert [(f["step_id"], f["fact"]["stage"]) for f in facts] == [
        (f"deal:{deal.id}", "subscription")]
