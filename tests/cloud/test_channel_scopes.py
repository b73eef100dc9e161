"""Who sees which referrals: a broker their own, an agency admin their agency's, a
channel manager their sites' projects'; evidence only for channel staff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cloud.main import create_app
from cloud.settings import CloudSettings
from tests.cloud import signed_in
from tests.cloud.channel_world import build_channel_world, refer
from tests.cloud.sales_world import build_world


@pytest.fixture
def api(db: Session, settings: CloudSettings) -> Iterator[tuple[TestClient, dict[str, int]]]:
    cw = build_channel_world(db, settings, build_world(db, settings))
    roomy = settings.model_copy(update={"login_ip_limit": 1000})
    with TestClient(create_app(roomy)) as client:
        ids = {}
        for name, site, phone in (("broker_a1", "site-a", "13611110001"),
                                  ("broker_a2", "site-b", "13611110002"),
                                  ("broker_b1", "site-a", "13611110003"),
                                  ("referrer", "site-b", "13611110004")):
            answer = refer(client, signed_in(client, name), cw.project(site), phone)
            assert answer.status_code == 201, answer.text
            ids[name] = answer.json()["id"]
        yield client, ids


def _seen(client: TestClient, username: str) -> set[int]:
    response = client.get("/api/v1/channel/referrals", headers=signed_in(client, username))
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()}


def test_each_role_sees_its_own_slice(api: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = api
    assert _seen(client, "broker_a1") == {ids["broker_a1"]}
    assert _seen(client, "referrer") == {ids["referrer"]}
    assert _seen(client, "agency_a") == {ids["broker_a1"], ids["broker_a2"]}
    assert _seen(client, "cm_a") == {ids["broker_a1"], ids["broker_b1"]}
    assert _seen(client, "cm_b") == {ids["broker_a2"], ids["referrer"]}
    assert _seen(client, "hqadmin") == set(ids.values())


def test_one_referral_outside_the_scope_is_not_found(
    api: tuple[TestClient, dict[str, int]]
) -> None:
    client, ids = api
    for username, theirs, others in (("broker_a1", "broker_a1", "broker_a2"),
                                     ("agency_a", "broker_a2", "broker_b1"),
                                     ("cm_a", "broker_b1", "referrer")):
        headers = signed_in(client, username)
        own = client.get(f"/api/v1/channel/referrals/{ids[theirs]}", headers=headers)
        assert own.status_code == 200, (username, own.text)
        other = client.get(f"/api/v1/channel/referrals/{ids[others]}", headers=headers)
        assert other.status_code == 404, (username, other.text)
        assert other.json()["code"] == "referral_not_found"


def test_evidence_is_for_channel_staff(api: tuple[TestClient, dict[str, int]]) -> None:
    client, ids = api
    url = f"/api/v1/channel/referrals/{ids['broker_a1']}"
    assert client.get(url, headers=signed_in(client, "broker_a1")).json()["evidence"] is None
    assert client.get(url, headers=signed_in(client, "cm_a")).json()["evidence"] == []
