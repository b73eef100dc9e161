"""Customer 360 on the consultant's phone, through the real edge app: the profile merged
from this office's visits, first and last visit and return visits, the cloud's stage,
ownership and payment method from the down-feed (edge schema v14), the filters, and the
search by number, last four digits or name — counted and audited through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.customers.profile import merged_profile
from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store.models.reception import Visit
from shared.events import CUSTOMER_SEARCHED
from shared.reception_events import VisitProfile
from shared.timeutil import utcnow
from tests.edge.seed import consultant, customer, project, seed
from tests.edge.test_followups import KIOSK, WANG, ZHAO, bearer, consent_body, token_for
from tests.edge.test_my_customers import outbox_events

PLEDGED, SIGNED, LAPSED, ZHAOS = "13900000011", "13900000012", "13900000013", "13900000014"
WALK_IN = "13700000021"


@pytest.fixture
def seeded(edge_settings: EdgeSettings) -> EdgeSettings:
    now = utcnow()
    seed(edge_settings, [
        project(1, 1, "云栖府"),
        consultant(2, WANG, "王顾问"),
        consultant(3, ZHAO, "赵顾问"),
        customer(4, edge_settings, 1, PLEDGED, owner_id=WANG, visit_count=3,
                 first_visit_at=now - timedelta(days=30), last_visit_at=now - timedelta(days=2),
                 last_effective_at=now - timedelta(days=2), customer_ref="51",
                 status="pledged", ownership="owned"),
        customer(5, edge_settings, 1, SIGNED, owner_id=WANG, visit_count=1,
                 first_visit_at=now - timedelta(days=40), last_visit_at=now - timedelta(days=40),
                 last_effective_at=now - timedelta(days=3), customer_ref="52",
                 status="signed", ownership="owned", payment_method="commercial_loan"),
        customer(6, edge_settings, 1, LAPSED, owner_id=WANG, visit_count=1,
                 first_visit_at=now - timedelta(days=12), last_visit_at=now - timedelta(days=12),
                 last_effective_at=now - timedelta(days=12), customer_ref="53",
                 status="visited", ownership="overdue"),
        customer(7, edge_settings, 1, ZHAOS, owner_id=ZHAO, visit_count=1,
                 last_visit_at=now - timedelta(days=1), customer_ref="54"),
    ])
    return edge_settings


@pytest.fixture
def client(seeded: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, sync=False)) as test_client:
        yield test_client


def register(client: TestClient, phone: str, *, name: str | None = None,
             source: str = "natural", profile: dict[str, Any] | None = None) -> None:
    body: dict[str, Any] = {"phone": phone, "party_size": 2, "consultant_id": WANG,
                            "source": source, "consent": consent_body()}
    if name is not None:
        body["name"] = name
    if profile is not None:
        body["profile"] = profile
    response = client.post("/api/v1/kiosk/visits", json=body,
                           headers={**KIOSK, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text


def listed(client: TestClient, token: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/staff/customers", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def phones(customers: list[dict[str, Any]]) -> set[str]:
    return {c["phone_masked"] for c in customers}


def test_the_360_view_joins_the_cloud_cache_and_this_offices_visits(
    client: TestClient, seeded: EdgeSettings
) -> None:
    register(client, PLEDGED, name="陈大文", source="referral_old_customer",
             profile={"gender": "male", "grade": "B", "layout": "三室两厅",
                      "budget_min": 300, "budget_max": 400, "purpose": "own_use"})
    register(client, WALK_IN, name="林小雨", profile={"gender": "female", "grade": "A"})
    mine = {c["phone_masked"]: c for c in listed(client, token_for(seeded))}
    pledged = mine["139****0011"]
    assert pledged["status"] == "pledged" and pledged["ownership"] == "owned"
    assert pledged["visit_count"] == 4 and pledged["return_visits"] == 3  # 3 + today
    assert pledged["first_visit_at"] < pledged["last_visit_at"]
    assert pledged["source"] == "referral_old_customer"
    assert pledged["profile"]["grade"] == "B" and pledged["profile"]["budget_max"] == 400
    assert pledged["profile"]["layout"] == "三室两厅"
    assert mine["139****0012"]["payment_method"] == "commercial_loan"
    walk_in = mine["137****0021"]  # only registered here: the cloud has not answered yet
    assert walk_in["provisional"] is True and walk_in["status"] == "visited"
    assert walk_in["return_visits"] == 0 and walk_in["first_visit_at"] is not None
    assert walk_in["profile"]["gender"] == "female"
    assert "139****0014" not in mine  # Zhao's


def test_filters_combine_and_refuse_unknown_values(client: TestClient,
                                                   seeded: EdgeSettings) -> None:
    register(client, WALK_IN, profile={"gender": "female"})
    token = token_for(seeded)
    assert phones(listed(client, token, status=["pledged", "signed"])) == {
        "139****0011", "139****0012"}
    assert phones(listed(client, token, visits="returned")) == {"139****0011"}
    assert phones(listed(client, token, visits="first")) == {
        "139****0012", "139****0013", "137****0021"}
    assert phones(listed(client, token, ownership="overdue")) == {"139****0013"}
    assert phones(listed(client, token, payment_method="commercial_loan")) == {"139****0012"}
    assert phones(listed(client, token, gender="female")) == {"137****0021"}
    assert phones(listed(client, token, gender="female", status="signed")) == set()
    assert phones(listed(client, token, source="natural")) == {"137****0021"}
    for bad in ({"status": "sold"}, {"visits": "many"}, {"payment_method": "cash"},
                {"gender": "x"}):
        refused = client.get("/api/v1/staff/customers", params=bad, headers=bearer(token))
        assert refused.status_code == 422, bad


def test_search_by_number_tail_or_name_is_audited(client: TestClient,
                                                  seeded: EdgeSettings) -> None:
    register(client, WALK_IN, name="林小雨")
    token = token_for(seeded)
    assert phones(listed(client, token, q="139 0000 0012")) == {"139****0012"}
    assert phones(listed(client, token, q="0013")) == {"139****0013"}
    assert phones(listed(client, token, q="小雨")) == {"137****0021"}
    # Another consultant's customer is not found by its number, nor by a masked-name guess.
    assert listed(client, token, q=ZHAOS) == []
    assert listed(client, token, q="林*") == []
    searches = [p for t, p in outbox_events(seeded) if t == CUSTOMER_SEARCHED]
    assert [(s["by"], s["phone"], s["matches"]) for s in searches] == [
        ("phone", "13900000012", 1), ("tail", None, 1), ("name", None, 1),
        ("phone", ZHAOS, 0), ("name", None, 0)]
    assert {s["consultant_id"] for s in searches} == {WANG}
    # A plain list is no search: nothing more audited.
    listed(client, token)
    assert len([t for t, _ in outbox_events(seeded) if t == CUSTOMER_SEARCHED]) == 5


@pytest.mark.parametrize("bad", ["12345", "1390000001", "23900000011", "x" * 41, "   "])
def test_a_search_that_is_neither_number_nor_name_is_refused(
    client: TestClient, seeded: EdgeSettings, bad: str
) -> None:
    refused = client.get("/api/v1/staff/customers", params={"q": bad},
                         headers=bearer(token_for(seeded)))
    assert refused.status_code == 422
    assert refused.json()["code"] in ("customer_search_invalid", "validation_failed")
    assert not [t for t, _ in outbox_events(seeded) if t == CUSTOMER_SEARCHED]


def test_searches_are_limited_per_consultant(client: TestClient, seeded: EdgeSettings) -> None:
    limit = seeded.kiosk_lookup_per_minute
    token = token_for(seeded)
    for _ in range(limit):
        listed(client, token, q="0011")
    over = client.get("/api/v1/staff/customers", params={"q": "0011"}, headers=bearer(token))
    assert over.status_code == 429 and over.json()["code"] == "too_many_lookups"
    assert listed(client, token_for(seeded, ZHAO), q="0014")  # Zhao has his own allowance
    assert listed(client, token)  # listing without a search is not counted



def test_the_profile_keeps_earlier_answers_and_each_range_whole() -> None:
    """A return visit that leaves a field blank keeps the earlier answer; a range is taken
    whole from the latest visit that gave it (never 120–100 from two visits)."""
    visits = [Visit(profile={"gender": "female", "area_min": 90, "area_max": 100,
                             "budget_min": 200, "budget_max": 260, "grade": "C"}),
              Visit(profile=None),
              Visit(profile={"area_min": 120, "grade": "A"})]
    merged = merged_profile(visits)
    assert merged == {"gender": "female", "area_min": 120, "area_max": None,
                      "budget_min": 200, "budget_max": 260, "grade": "A"}
    VisitProfile.model_validate(merged)  # what the route answers with
