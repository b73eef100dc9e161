"""A deletion request reaches the channel's records: the referrals carrying the subject's
full number lose number and name; others' referrals and masked ones are left."""

from __future__ import annotations

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
