"""My customers on the consultant's phone, through the real edge app: who I own (the
cloud's cache decides, this office's visits stand in until it answers), the 7-day
follow-up rule in Beijing days, one customer's history, and tap-to-call's audited reveal
(a `contact.revealed` event in the outbox before the number is answered)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.sync import OutboxRow
from shared.events import CONTACT_REVEALED
from shared.follow_ups import follow_due
from shared.timeutil import SHANGHAI, utcnow
from tests.edge.seed import consultant, customer, project, seed
from tests.edge.test_followups import (
    WANG,
    ZHAO,
    bearer,
    draft,
    post_follow_up,
    read_store,
    register_visit,
    token_for,
)

OVERDUE, DUE_SOON, FINE, ZHAOS = "13900000001", "13900000002", "13900000003", "13900000004"


@pytest.fixture
def seeded(edge_settings: EdgeSettings) -> EdgeSettings:
    now = utcnow()
    seed(edge_settings, [
        project(1, 1, "云栖府"),
        consultant(2, WANG, "王顾问"),
        consultant(3, ZHAO, "赵顾问"),
        customer(4, edge_settings, 1, OVERDUE, owner_id=WANG, owner_name="王顾问",
                 visit_count=1, last_visit_at=now - timedelta(days=8),
                 last_effective_at=now - timedelta(days=8), customer_ref="41"),
        customer(5, edge_settings, 1, DUE_SOON, owner_id=WANG, owner_name="王顾问",
                 visit_count=3, last_visit_at=now - timedelta(days=20),
                 last_effective_at=now - timedelta(days=5), customer_ref="42"),
        customer(6, edge_settings, 1, FINE, owner_id=WANG, owner_name="王顾问",
                 visit_count=1, last_visit_at=now - timedelta(days=1),
                 last_effective_at=now - timedelta(days=1), customer_ref="43"),
        customer(7, edge_settings, 1, ZHAOS, owner_id=ZHAO, owner_name="赵顾问",
                 visit_count=1, last_visit_at=now - timedelta(days=9),
                 last_effective_at=now - timedelta(days=9), customer_ref="44"),
    ])
    return edge_settings


@pytest.fixture
def client(seeded: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, sync=False)) as test_client:
        yield test_client


def mine(client: TestClient, token: str, state: str = "all") -> list[dict[str, Any]]:
    response = client.get("/api/v1/staff/customers", params={"state": state},
                          headers=bearer(token))
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def shanghai(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=SHANGHAI)


def test_the_seven_day_rule_counts_beijing_days() -> None:
    # Contact late on the 1st or early on the 1st: due by the end of the 8th either way.
    for contact in (shanghai("2026-12-01", 23), shanghai("2026-12-01", 0)):
        assert follow_due(contact, shanghai("2026-12-05", 23)).state == "ok"
        assert follow_due(contact, shanghai("2026-12-06", 0)).state == "due_soon"
        assert follow_due(contact, shanghai("2026-12-08", 23)).state == "due_soon"
        assert follow_due(contact, shanghai("2026-12-09", 0)).state == "overdue"
        assert follow_due(contact, shanghai("2026-12-09", 0)).due_day.isoformat() == "2026-12-08"


def test_my_customers_most_urgent_first_and_only_mine(client: TestClient,
                                                      seeded: EdgeSettings) -> None:
    fresh = register_visit(client, phone="13700000009")  # received by Wang: his, for now
    register_visit(client, phone=ZHAOS)  # Wang receives Zhao's customer: still Zhao's
    listed = mine(client, token_for(seeded))
    assert [c["phone_masked"] for c in listed] == [
        "139****0001", "139****0002", "139****0003", "137****0009"]
    assert [c["follow_state"] for c in listed] == ["overdue", "due_soon", "ok", "ok"]
    assert listed[0]["customer_ref"] == "41" and listed[0]["provisional"] is False
    new = listed[3]
    assert new["provisional"] is True and new["name_masked"] == "陈**"
    assert new["visit_count"] == 1 and new["last_effective_at"] == fresh["occurred_at"]
    assert [c["phone_masked"] for c in mine(client, token_for(seeded), "attention")] == [
        "139****0001", "139****0002"]
    zhao = mine(client, token_for(seeded, ZHAO))
    assert [c["phone_masked"] for c in zhao] == ["139****0004"]
    assert zhao[0]["visit_count"] == 2  # the cloud's one, and today's here


def test_an_effective_follow_up_here_takes_the_customer_off_the_due_list(
    client: TestClient, seeded: EdgeSettings
) -> None:
    assert post_follow_up(client, token_for(seeded), draft(phone=DUE_SOON)).status_code == 201
    not_reached = draft(phone=OVERDUE, reached=False, note="")
    assert post_follow_up(client, token_for(seeded), not_reached).status_code == 201
    states = {c["phone_masked"]: c["follow_state"] for c in mine(client, token_for(seeded))}
    assert states["139****0002"] == "ok"
    assert states["139****0001"] == "overdue"  # an unanswered call does not count


def test_one_customers_history_is_for_its_owner_or_a_manager(
    client: TestClient, seeded: EdgeSettings
) -> None:
    visit = register_visit(client, phone=DUE_SOON)
    note = draft(visit_id=visit["id"], note="三房，关心学区")
    assert post_follow_up(client, token_for(seeded), note).status_code == 201
    key = next(c["key"] for c in mine(client, token_for(seeded))
               if c["phone_masked"] == "139****0002")
    answer = client.get(f"/api/v1/staff/customers/{key}", headers=bearer(token_for(seeded)))
    assert answer.status_code == 200, answer.text
    history = answer.json()["history"]
    assert [h["kind"] for h in history] == ["follow_up", "visit"]
    assert history[0]["note"] == "三房，关心学区" and history[0]["effective"] is True
    assert answer.json()["customer"]["visit_count"] == 4
    other = client.get(f"/api/v1/staff/customers/{key}",
                       headers=bearer(token_for(seeded, ZHAO)))
    assert other.status_code == 403 and other.json()["code"] == "not_customer_owner"
    manager = token_for(seeded, ZHAO, roles=frozenset({"sales_manager"}))
    assert client.get(f"/api/v1/staff/customers/{key}", headers=bearer(manager)
                      ).status_code == 200
    for bad in ("1:" + "0" * 64, "nonsense", "1:" + "g" * 64):
        missing = client.get(f"/api/v1/staff/customers/{bad}",
                             headers=bearer(token_for(seeded)))
        assert missing.status_code == 404 and missing.json()["code"] == "customer_not_found"


def outbox_events(settings: EdgeSettings) -> list[tuple[str, dict[str, Any]]]:
    async def read(store: Store) -> list[tuple[str, dict[str, Any]]]:
        rows = await store.read(lambda s: s.exec(OutboxRow.__table__.select()))
        return [(r.type, outbox.open_payload(settings.cipher, r)) for r in rows.all()]

    return read_store(settings, read)


def test_revealing_a_number_to_call_writes_its_audit_event_first(
    client: TestClient, seeded: EdgeSettings
) -> None:
    visit = register_visit(client, phone="13700000009")
    key = next(c["key"] for c in mine(client, token_for(seeded)) if c["provisional"])
    path = f"/api/v1/staff/customers/{key}/reveal"
    shown = client.post(path, json={"reason": "电话回访"}, headers=bearer(token_for(seeded)))
    assert shown.status_code == 200, shown.text
    assert shown.json() == {"phone": "13700000009", "name": "陈大文"}
    events = outbox_events(seeded)
    assert [t for t, _ in events] == ["visit.registered", CONTACT_REVEALED]
    assert events[1][1] == {"project_id": 1, "phone": "13700000009", "consultant_id": WANG,
                            "reason": "电话回访"}
    refused = client.post(path, json={"reason": "电话回访"},
                          headers=bearer(token_for(seeded, ZHAO)))
    assert refused.status_code == 403
    assert len(outbox_events(seeded)) == 2
    # Known only from the cloud: the appliance has no number to show.
    cloud_only = next(c["key"] for c in mine(client, token_for(seeded))
                      if c["phone_masked"] == "139****0001")
    away = client.post(f"/api/v1/staff/customers/{cloud_only}/reveal",
                       json={"reason": "电话回访"}, headers=bearer(token_for(seeded)))
    assert away.status_code == 409 and away.json()["code"] == "phone_not_on_appliance"
    assert visit["phone_masked"] == "137****0009"
    with sqlite3.connect(seeded.database_path) as db:  # nothing of the number in clear
        assert "13700000009" not in "\n".join(db.iterdump())
    assert client.post(path, json={"reason": "x"}, headers=bearer(token_for(seeded))
                       ).status_code == 422
