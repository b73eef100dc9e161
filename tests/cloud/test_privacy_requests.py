"""Data-subject requests: registered with a 15-working-day deadline, the subject's data
gathered unmasked and audited, corrections and erasures carried out on every record,
refusals with reasons — and only the privacy officer may do any of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.privacy.deadline import add_working_days, answer_due
from cloud.privacy.models import SubjectRequest
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.settings import CloudSettings
from cloud.sync.models import DownFeed
from shared.events import VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import audit_rows, make_user, signed_in
from tests.cloud.sales_world import PHONE_A, apply, body, envelope, post

REQUESTS = "/api/v1/privacy/requests"


@pytest.fixture
def officer(client: TestClient, db: Session, world: dict[str, Any]) -> dict[str, str]:
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    return signed_in(client, "privacy")


def open_request(client: TestClient, officer: dict[str, str], kind: str,
                 phone: str = PHONE_A) -> dict[str, Any]:
    response = client.post(REQUESTS, headers=officer, json={
        "kind": kind, "phone": phone, "channel": "onsite", "detail": "本人要求"})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_fifteen_working_days_skip_weekends_and_end_at_shanghai_midnight() -> None:
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon
    assert add_working_days(date(2026, 11, 27), 15) == date(2026, 12, 18)
    # Received on Friday 23:30 in Shanghai (15:30 UTC): the clock starts on Shanghai's day.
    due = answer_due(datetime(2026, 11, 27, 15, 30, tzinfo=UTC))
    assert due == datetime(2026, 12, 18, 15, 59, 59, 999999, tzinfo=UTC)
    # Ten minutes later it is Saturday in Shanghai: the next working day is still Monday.
    assert answer_due(datetime(2026, 11, 27, 16, 10, tzinfo=UTC)) == due


def test_a_request_is_registered_with_its_deadline_and_audited(
    client: TestClient, db: Session, officer: dict[str, str],
) -> None:
    created = open_request(client, officer, "access")
    assert created["status"] == "open" and created["overdue"] is False
    assert created["phone_masked"] == "138****0001" and created["detail"] == "本人要求"
    assert datetime.fromisoformat(created["due_at"]) > datetime.fromisoformat(
        created["received_at"])
    listed = client.get(REQUESTS, headers=officer, params={"status": "open"}).json()
    assert [r["id"] for r in listed] == [created["id"]]
    assert "phone" not in listed[0] and "detail" not in listed[0]
    [row] = audit_rows(db, "privacy.request_create")
    assert row.object_id == str(created["id"])


def test_an_access_request_gathers_every_record_unmasked_and_audits_the_reading(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any],
    officer: dict[str, str],
) -> None:
    # The same person also visited the other site's project.
    site_b = world["site-b"]
    apply(db, settings, "site-b", [envelope(site_b.key, "site-b", site_b.next_seq(),
                                            VISIT_REGISTERED, {
        "visit_id": "00000000-0000-4000-8000-00000000000b", "project_id": site_b.project_id,
        "phone": PHONE_A, "name": "陈先生", "party_size": 1, "intent": "两房",
        "consent": {"notice_version": "2026-11-v1", "method": "kiosk_screen",
                    "accepted_at": "2026-11-27T02:00:00Z",
                    "recorded_at": "2026-11-27T02:00:01Z", "tablet": "192.168.1.20"}})])
    consultant = signed_in(client, "consult_a")
    assert post(client, consultant, body(world["site-a"])).status_code == 201
    request = open_request(client, officer, "copy")

    data = client.post(f"{REQUESTS}/{request['id']}/subject-data", headers=officer)
    assert data.status_code == 200, data.text
    customers = data.json()["customers"]
    assert {c["project_id"] for c in customers} == {world["site-a"].project_id,
                                                    site_b.project_id}
    assert {c["phone"] for c in customers} == {PHONE_A}
    by_project = {c["project_id"]: c for c in customers}
    assert by_project[site_b.project_id]["name"] == "陈先生"
    visit_b = by_project[site_b.project_id]["visits"][0]
    assert visit_b["intent"] == "两房"
    # The consent the visitor gave is theirs to see too (older agents sent none).
    assert (visit_b["consent_notice_version"], visit_b["consent_method"],
            visit_b["consent_accepted_at"]) == ("2026-11-v1", "kiosk_screen",
                                                "2026-11-27T02:00:00Z")
    assert by_project[world["site-a"].project_id]["visits"][0]["consent_method"] is None
    assert by_project[world["site-a"].project_id]["follow_ups"][0]["note"].startswith("面谈")
    [read] = audit_rows(db, "privacy.subject_data")
    assert read.detail["customers"] == 2

    done = client.post(f"{REQUESTS}/{request['id']}/complete", headers=officer,
                       json={"resolution": "已当面提供副本"})
    assert done.json()["status"] == "completed" and done.json()["closed_at"]
    again = client.post(f"{REQUESTS}/{request['id']}/subject-data", headers=officer)
    assert again.status_code == 409 and again.json()["code"] == "subject_request_closed"


def test_a_correction_renames_every_record_and_tells_the_appliance(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any],
    officer: dict[str, str],
) -> None:
    request = open_request(client, officer, "correction")
    wrong_kind = client.post(f"{REQUESTS}/{request['id']}/erase", headers=officer)
    assert wrong_kind.status_code == 409
    assert wrong_kind.json()["code"] == "subject_request_wrong_kind"
    response = client.post(f"{REQUESTS}/{request['id']}/correct", headers=officer,
                           json={"name": "陈思远"})
    assert response.status_code == 200, response.text
    db.rollback()
    customer = db.get(Customer, world["site-a"].customer_id, populate_existing=True)
    assert customer is not None and customer.name_enc is not None
    assert settings.cipher.decrypt(customer.name_enc, context="customer.name") == "陈思远"
    feed = db.exec(select(DownFeed).where(DownFeed.site_id == "site-a",
                                          DownFeed.kind == "customer")).all()
    assert feed[-1].data["name_masked"] == "陈**"
    assert audit_rows(db, "privacy.correct")


def test_an_erasure_removes_phone_name_and_notes_but_keeps_anonymous_visits(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any],
    officer: dict[str, str],
) -> None:
    consultant = signed_in(client, "consult_a")
    assert post(client, consultant, body(world["site-a"])).status_code == 201
    request = open_request(client, officer, "deletion")

    response = client.post(f"{REQUESTS}/{request['id']}/erase", headers=officer)
    assert response.status_code == 200, response.text
    assert response.json()["customers_erased"] == 1
    assert response.json()["follow_up_notes_cleared"] == 1
    db.rollback()
    customer = db.get(Customer, world["site-a"].customer_id, populate_existing=True)
    assert customer is not None
    assert customer.name_enc is None and customer.phone_masked == "已删除"
    assert settings.cipher.decrypt(customer.phone_enc, context="customer.phone") == ""
    assert customer.phone_bidx != settings.blind_index.phone(PHONE_A)
    assert db.exec(select(Visit).where(Visit.customer_id == customer.id)).all()
    assert {f.note_enc for f in db.exec(select(FollowUp)).all()} == {None}
    # Nobody finds the person by their number any more; the request keeps only the mask.
    hq = signed_in(client, "hqadmin")
    assert client.get("/api/v1/customers", headers=hq, params={"phone": PHONE_A}).json() == []
    kept = client.get(f"{REQUESTS}/{request['id']}", headers=officer).json()
    assert kept["phone_masked"] == "138****0001" and kept["detail"] is None
    feed = db.exec(select(DownFeed).where(DownFeed.site_id == "site-a",
                                          DownFeed.kind == "customer")).all()
    # The appliance is told to erase its copies; the earlier items of them left the feed.
    assert feed[-1].data["phone_masked"] == "已删除" and feed[-1].data["erased"] is True
    assert "name_masked" not in feed[-1].data
    assert [f.key for f in feed].count(feed[-1].key) == 1
    [row] = audit_rows(db, "privacy.erase")
    assert row.detail["customers"] == 1


def test_a_customer_in_a_transaction_cannot_be_erased_and_is_refused_with_a_reason(
    client: TestClient, db: Session, world: dict[str, Any], officer: dict[str, str],
) -> None:
    customer = db.get(Customer, world["site-a"].customer_id)
    assert customer is not None
    customer.status = "subscribed"
    db.add(customer)
    db.commit()
    request = open_request(client, officer, "deletion")
    held = client.post(f"{REQUESTS}/{request['id']}/erase", headers=officer)
    assert held.status_code == 409 and held.json()["code"] == "subject_legal_retention"
    no_reason = client.post(f"{REQUESTS}/{request['id']}/refuse", headers=officer,
                            json={"code": "legal_retention", "reason": ""})
    assert no_reason.status_code == 422
    refused = client.post(f"{REQUESTS}/{request['id']}/refuse", headers=officer, json={
        "code": "legal_retention", "reason": "已签订认购书，合同资料依法保存"})
    assert refused.json()["status"] == "refused"
    assert refused.json()["refusal_code"] == "legal_retention"
    assert audit_rows(db, "privacy.refuse")


@pytest.mark.parametrize("username", ["hqadmin", "manager_a", "consult_a"])
def test_only_the_privacy_officer_handles_requests(
    client: TestClient, world: dict[str, Any], username: str,
) -> None:
    headers = signed_in(client, username)
    assert client.get(REQUESTS, headers=headers).status_code == 403
    created = client.post(REQUESTS, headers=headers, json={
        "kind": "access", "phone": PHONE_A, "channel": "phone"})
    assert created.status_code == 403


def test_a_bad_number_or_an_unknown_request_is_a_clear_error(
    client: TestClient, officer: dict[str, str],
) -> None:
    bad = client.post(REQUESTS, headers=officer, json={
        "kind": "access", "phone": "12345", "channel": "phone"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_phone"
    missing = client.get(f"{REQUESTS}/999999", headers=officer)
    assert missing.status_code == 404 and missing.json()["code"] == "subject_request_not_found"


def test_a_request_past_its_deadline_is_flagged_and_listed_as_overdue(
    client: TestClient, db: Session, officer: dict[str, str],
) -> None:
    late = open_request(client, officer, "access")
    on_time = open_request(client, officer, "access", phone="13900000009")
    row = db.get(SubjectRequest, late["id"])
    assert row is not None
    row.due_at = utcnow() - timedelta(minutes=1)
    db.add(row)
    db.commit()
    overdue = client.get(REQUESTS, headers=officer, params={"overdue": "true"}).json()
    assert [r["id"] for r in overdue] == [late["id"]] and overdue[0]["overdue"] is True
    everything = client.get(REQUESTS, headers=officer).json()
    assert [r["id"] for r in everything] == [late["id"], on_time["id"]]  # by deadline
