"""Data-subject requests reach the channel's records: an access request shows the
referrals carrying the subject's full number, who made them and what became of them; a
deletion blanks number and name in them; others' referrals and masked ones are left."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cloud.channel.models import Referral
from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import audit_rows, make_user, signed_in
from tests.cloud.channel_world import ChannelWorld, build_channel_world, refer
from tests.cloud.sales_world import build_world

SUBJECT = "13612345678"
OTHER = "13698765432"


@pytest.fixture
def api(db: Session, settings: CloudSettings) -> Iterator[tuple[TestClient, ChannelWorld]]:
    world = build_channel_world(db, settings, build_world(db, settings))
    make_user(db, "privacy", roles=["privacy_officer"], scope_all=True)
    roomy = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        yield client, world


def test_an_erasure_blanks_the_subjects_referrals_and_leaves_the_rest(
    api: tuple[TestClient, ChannelWorld], db: Session, settings: CloudSettings
) -> None:
    client, world = api
    broker = signed_in(client, "broker_a1")
    project = world.project("site-a")
    for phone in (SUBJECT, OTHER, "136****5678"):
        assert refer(client, broker, project, phone).status_code == 201
    officer = signed_in(client, "privacy")
    opened = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "deletion", "phone": SUBJECT, "channel": "onsite", "detail": "本人要求"})
    assert opened.status_code == 201, opened.text

    erased = client.post(f"/api/v1/privacy/requests/{opened.json()['id']}/erase",
                         headers=officer)
    assert erased.status_code == 200, erased.text

    db.rollback()
    subject, other, masked = db.exec(select(Referral).order_by(col(Referral.id))).all()
    assert subject.phone_enc is None and subject.phone_bidx is None
    assert subject.phone34_bidx is None and subject.phone_masked == "已删除"
    assert settings.cipher.decrypt(subject.name_enc, context="channel_referral.name") == ""
    assert subject.state  # the broker's record of the outcome stays
    assert other.phone_bidx == settings.blind_index.phone(OTHER)
    assert masked.phone_masked == "136****5678"
    [row] = audit_rows(db, "privacy.erase")
    assert row.detail["referrals"] == 1


def test_an_access_request_shows_the_subjects_referrals_and_who_made_them(
    api: tuple[TestClient, ChannelWorld], db: Session
) -> None:
    client, world = api
    project = world.project("site-a")
    first = refer(client, signed_in(client, "broker_a1"), project, SUBJECT, name="陈晓")
    second = refer(client, signed_in(client, "referrer"), project, SUBJECT, name="陈晓")
    assert (first.json()["state"], second.json()["state"]) == ("confirmed", "invalid")
    for phone in (OTHER, "136****5678"):
        assert refer(client, signed_in(client, "broker_a1"), project, phone).status_code == 201
    officer = signed_in(client, "privacy")
    opened = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "access", "phone": SUBJECT, "channel": "onsite"})
    assert opened.status_code == 201, opened.text

    answer = client.post(f"/api/v1/privacy/requests/{opened.json()['id']}/subject-data",
                         headers=officer)
    assert answer.status_code == 200, answer.text
    referrals = answer.json()["referrals"]
    assert [(r["id"], r["agency_name"], r["name"], r["phone"], r["state"])
            for r in referrals] == [
        (first.json()["id"], "渠道A", "陈晓", SUBJECT, "confirmed"),
        (second.json()["id"], None, "陈晓", SUBJECT, "invalid")]
    assert referrals[1]["reason_code"] == second.json()["reason_code"]
    [row] = audit_rows(db, "privacy.subject_data")
    assert row.detail["referrals"] == 2


def test_an_access_request_shows_the_leads_the_subject_left_on_share_pages(
    api: tuple[TestClient, ChannelWorld], db: Session
) -> None:
    client, world = api
    project = world.project("site-a")
    made = client.post("/api/v1/channel/broker/shares", headers=signed_in(client, "broker_a1"),
                       json={"kind": "project", "project_id": project})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    for phone in (SUBJECT, OTHER):
        left = client.post(f"/api/v1/channel/public/shares/{token}/leads", json={
            "visitor_id": str(uuid.uuid4()), "name": "陈晓", "phone": phone, "consent": True})
        assert left.status_code in (200, 201), left.text
    officer = signed_in(client, "privacy")
    opened = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "access", "phone": SUBJECT, "channel": "onsite"})
    answer = client.post(f"/api/v1/privacy/requests/{opened.json()['id']}/subject-data",
                         headers=officer)
    assert answer.status_code == 200, answer.text
    [lead] = answer.json()["leads"]
    assert (lead["name"], lead["phone"], lead["agency_name"], lead["project_id"],
            lead["referral_id"]) == ("陈晓", SUBJECT, "渠道A", project, None)
    assert lead["consent_version"]
    [row] = audit_rows(db, "privacy.subject_data")
    assert row.detail["leads"] == 1
    # Another number's request finds none of them.
    other = client.post("/api/v1/privacy/requests", headers=officer, json={
        "kind": "access", "phone": "13600000000", "channel": "onsite"})
    assert client.post(f"/api/v1/privacy/requests/{other.json()['id']}/subject-data",
                       headers=officer).json()["leads"] == []
