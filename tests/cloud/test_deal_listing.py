"""The documents a phone lists (ADR 0052): a consultant's own, newest first, narrowed by
state or by one customer (the customer's page); a sales manager's whole project, where
the ones waiting for approval are found by state. Another site's project is not there."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.deals import service
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.deal_world import Office, add_customer, build_office, subscribe
from tests.cloud.inventory_world import principal


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> Office:
    return build_office(db, settings, floors=2, per_floor=2)


def _ids(client: TestClient, office: Office, who: str, **params: str | int) -> list[int]:
    answer = client.get(f"/api/v1/deals/projects/{office.project_id}/deals",
                        headers=signed_in(client, who), params=params)
    assert answer.status_code == 200, answer.text
    return [d["id"] for d in answer.json()]


def test_a_consultant_lists_their_own_documents_by_state_and_by_customer(
        client: TestClient, db: Session, settings: CloudSettings, office: Office) -> None:
    other_customer = add_customer(db, settings, office.project_id, "13900007001",
                                  office.world["consult_a"])
    first = subscribe(db, settings, office, office.unit(0))
    second = subscribe(db, settings, office, office.unit(1), customer_id=other_customer.id)
    assert first.id is not None and second.id is not None
    service.submit(db, office.consultant, second.id)
    db.commit()
    colleague_customer = add_customer(db, settings, office.project_id, "13900007002",
                                      office.world["consult_a2"])
    colleague = subscribe(db, settings, office, office.unit(2), customer_id=colleague_customer.id,
                          seller=principal(office.world["consult_a2"], "consultant"))

    assert _ids(client, office, "consult_a") == [second.id, first.id]
    assert _ids(client, office, "consult_a", status="submitted") == [second.id]
    assert _ids(client, office, "consult_a", customer_id=office.customer_id) == [first.id]
    # A colleague's customer is not mine to look through, even by its id.
    assert _ids(client, office, "consult_a", customer_id=colleague_customer.id) == []
    assert _ids(client, office, "manager_a") == [colleague.id, second.id, first.id]
    assert _ids(client, office, "manager_a", status="submitted") == [second.id]

    refused = client.get(f"/api/v1/deals/projects/{office.project_id}/deals",
                         headers=signed_in(client, "consult_a"), params={"customer_id": 0})
    assert refused.status_code == 422
    elsewhere = client.get(f"/api/v1/deals/projects/{office.project_id}/deals",
                           headers=signed_in(client, "consult_b"))
    assert elsewhere.status_code == 404


def test_the_manager_sees_whose_document_it_is_masked(
        client: TestClient, db: Session, settings: CloudSettings, office: Office) -> None:
    """The approver's phone has no copy of a consultant's customers: the document names
    its customer itself, masked as everywhere a seller or approver looks."""
    named = add_customer(db, settings, office.project_id, "13900007003", office.world["consult_a"])
    named.name_enc = settings.cipher.encrypt("周晓明", context="customer.name")
    db.add(named)
    db.commit()
    deal = subscribe(db, settings, office, office.unit(0), customer_id=named.id)
    unnamed = subscribe(db, settings, office, office.unit(1))

    for who in ("manager_a", "consult_a"):
        detail = client.get(f"/api/v1/deals/{deal.id}", headers=signed_in(client, who))
        assert detail.status_code == 200, detail.text
        body = detail.json()
        assert (body["customer_name_masked"], body["customer_phone_masked"]) == (
            "周**", "139****7003")
        assert "周晓明" not in detail.text and "13900007003" not in detail.text
    listed = client.get(f"/api/v1/deals/projects/{office.project_id}/deals",
                        headers=signed_in(client, "manager_a")).json()
    by_id = {d["id"]: d for d in listed}
    assert by_id[deal.id]["customer_phone_masked"] == "139****7003"
    assert by_id[unnamed.id]["customer_name_masked"] is None
