"""扫码带看 at the kiosk (issue #21 item 6): a broker's code verified offline with the
public keys of the down-feed, used once, refused with a stable code when forged,
expired, replayed, of another site's project or for another number — every refusal
recorded for the cloud — and the provisional answer (item 5) shown at registration."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import outbox
from shared import qr
from shared.envelope import DownItem
from shared.timeutil import iso, utcnow
from tests.consent import consent_body
from tests.edge.helpers import KIOSK_TOKEN
from tests.edge.seed import batch, customer, project, seed

AUTH = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
PHONE = "13800138000"
KEY = qr.private_key(os.urandom(32))
REFERRAL, BROKER = 41, 7


def channel_items(settings: EdgeSettings, *, state: str = "pending",
                  confirmation: str = "on_site") -> list[DownItem]:
    now = utcnow()
    return [
        DownItem(offset=2, kind="qr_key", key="q1",
                 data={"kid": "q1", "public_key": qr.public_key_text(KEY)}),
        DownItem(offset=3, kind="channel_rules", key="1:1", data={
            "project_id": 1, "version": 1, "effective_from": "2000-01-01T00:00:00Z",
            "rules": {"confirmation": confirmation}}),
        DownItem(offset=4, kind="referral", key=str(REFERRAL), data={
            "id": REFERRAL, "project_id": 1, "broker_id": BROKER, "agency_id": 3,
            "state": state, "reason_code": "pending_confirmation",
            "phone_masked": "138****8000", "masked": False,
            "phone_key": qr.phone_key(settings.blind_index, PHONE), "rule_version": 1,
            "created_at": iso(now - timedelta(hours=2)),
            "protection_until": iso(now + timedelta(hours=70))}),
    ]


def code(settings: EdgeSettings, *, key: Any = KEY, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "kid": "q1", "rid": REFERRAL, "bid": BROKER, "pid": 1,
        "pk": qr.phone_key(settings.blind_index, PHONE), "n": qr.new_nonce(),
        "exp": int((utcnow() + timedelta(minutes=30)).timestamp())}
    claims.update(changes)
    return qr.sign(qr.QrClaims.model_validate(claims), key)


@pytest.fixture
def client(edge_settings: EdgeSettings) -> Any:
    seed(edge_settings, [project(1, 1, "云栖府"), *channel_items(edge_settings)])
    with TestClient(create_app(edge_settings, sync=False)) as test_client:
        yield test_client


def register(client: TestClient, key: str, phone: str = PHONE, **body: Any) -> Any:
    return client.post("/api/v1/kiosk/visits",
                       json={"phone": phone, "party_size": 2, "project_id": 1,
                             "consent": consent_body(), **body},
                       headers={**AUTH, "Idempotency-Key": key})


def events(settings: EdgeSettings) -> list[tuple[str, dict[str, Any]]]:
    with sqlite3.connect(settings.database_path) as db:
        rows = db.execute("SELECT type, payload_enc FROM outbox ORDER BY seq").fetchall()
    return [(kind, json.loads(settings.cipher.decrypt(sealed, context=outbox.PAYLOAD_CONTEXT)))
            for kind, sealed in rows]


def visits(settings: EdgeSettings) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute("SELECT broker_id, referral_id, source FROM visit").fetchall()


def test_a_genuine_code_confirms_the_guided_visit_offline(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    token = code(edge_settings)

    preview = client.post("/api/v1/kiosk/qr/verify", json={"code": token}, headers=AUTH)
    assert preview.status_code == 200, preview.text
    assert preview.json()["phone_masked"] == "138****8000"
    assert preview.json()["referral_id"] == REFERRAL and preview.json()["broker_id"] == BROKER
    assert events(edge_settings) == []  # looking at a code uses nothing

    done = register(client, "guided-0001", qr_code=token)
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["broker_id"], body["referral_id"], body["source"]) == (BROKER, REFERRAL,
                                                                        "channel")
    answer = body["attribution"]
    assert answer["label"] == "首访"
    assert answer["referral_state"] == "confirmed"  # on_site: the scan confirms it
    assert [b["referral_id"] for b in answer["brokers"]] == [REFERRAL]

    (first, visit), (second, checkin) = events(edge_settings)
    assert (first, second) == ("visit.registered", "channel.qr_check_in")
    assert visit["source"] == "channel"
    assert checkin["visit_id"] == visit["visit_id"] and checkin["referral_id"] == REFERRAL
    assert (checkin["edge_state"], checkin["edge_reason"]) == ("confirmed",
                                                               answer["referral_reason"])
    assert checkin["phone"] == PHONE


def test_a_code_is_used_once_and_a_replay_is_refused_and_recorded(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    token = code(edge_settings)
    assert register(client, "guided-0002", qr_code=token).status_code == 201

    again = register(client, "guided-0003", qr_code=token)
    assert again.status_code == 422
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "qr_replayed" and "已使用" in again.json()["detail"]
    preview = client.post("/api/v1/kiosk/qr/verify", json={"code": token}, headers=AUTH)
    assert preview.json()["code"] == "qr_replayed"

    kinds = [kind for kind, _ in events(edge_settings)]
    assert kinds == ["visit.registered", "channel.qr_check_in", "channel.qr_refused",
                     "channel.qr_refused"]
    refused = events(edge_settings)[2][1]
    assert refused["code"] == "qr_replayed" and refused["referral_id"] == REFERRAL
    assert refused["token_sha256"] == qr.token_digest(token)
    assert len(visits(edge_settings)) == 1


@pytest.mark.parametrize(("make", "expected"), [
    (lambda s: code(s, key=qr.private_key(os.urandom(32))), "qr_bad_signature"),
    (lambda s: code(s, kid="q9"), "qr_unknown_key"),
    (lambda s: code(s, exp=int((utcnow() - timedelta(seconds=1)).timestamp())), "qr_expired"),
    (lambda s: code(s, pid=99), "qr_wrong_project"),
    (lambda s: code(s)[:-6] + "AAAAAA", "qr_bad_signature"),
    (lambda s: "13800138000", "qr_malformed"),
])
def test_bad_codes_are_refused_recorded_and_register_nothing(
    client: TestClient, edge_settings: EdgeSettings, make: Any, expected: str,
) -> None:
    response = register(client, "guided-0004", qr_code=make(edge_settings))

    assert response.status_code == 422
    assert response.json()["code"] == expected
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["detail"])
    assert visits(edge_settings) == []
    [(kind, payload)] = events(edge_settings)
    assert kind == "channel.qr_refused" and payload["code"] == expected
    assert payload["project_id"] == 1


def test_a_code_for_another_number_is_refused(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    response = register(client, "guided-0005", phone="13900139000",
                        qr_code=code(edge_settings))

    assert response.json()["code"] == "qr_phone_mismatch"
    assert visits(edge_settings) == []
    assert [kind for kind, _ in events(edge_settings)] == ["channel.qr_refused"]


def test_a_walk_in_of_the_morning_becomes_the_guided_visit(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    assert register(client, "guided-0006").status_code == 201
    later = register(client, "guided-0007", qr_code=code(edge_settings))

    assert later.status_code == 200 and later.json()["outcome"] == "same_day_existing"
    assert visits(edge_settings) == [(BROKER, REFERRAL, "channel")]
    kinds = [kind for kind, _ in events(edge_settings)]
    assert kinds == ["visit.registered", "channel.qr_check_in"]


def test_the_kiosk_shows_the_provisional_answer_of_a_plain_registration(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    answer = register(client, "plain-0001").json()["attribution"]

    assert answer["label"] == "首访" and answer["first_visit"] is True
    # The cached referral still protects this customer for its broker.
    assert answer["brokers"][0]["broker_id"] == BROKER
    assert answer["brokers"][0]["state"] == "pending"
    assert answer["referral_state"] is None


def test_a_resync_keeps_the_used_nonces(client: TestClient, edge_settings: EdgeSettings
                                        ) -> None:
    token = code(edge_settings)
    assert register(client, "guided-0008", qr_code=token).status_code == 201
    seed_again = [project(10, 1, "云栖府"), *[
        i.model_copy(update={"offset": i.offset + 10}) for i in channel_items(edge_settings)]]
    import asyncio

    from edge_agent.store import Store
    from edge_agent.sync.downlink import apply_batch

    async def resync() -> None:
        store = await Store.open(edge_settings.database_path)
        try:
            await store.write(apply_batch, batch(edge_settings, seed_again, resync=True),
                              utcnow())
        finally:
            await store.close()

    asyncio.run(resync())
    assert register(client, "guided-0009", qr_code=token).json()["code"] == "qr_replayed"


def test_a_referral_the_cloud_no_longer_holds_live_is_refused(
    edge_settings: EdgeSettings,
) -> None:
    items = channel_items(edge_settings)
    items[-1] = items[-1].model_copy(update={"data": {**items[-1].data, "active": False}})
    seed(edge_settings, [project(1, 1, "云栖府"), *items])
    with TestClient(create_app(edge_settings, sync=False)) as client:
        response = register(client, "guided-0010", qr_code=code(edge_settings))
    assert response.json()["code"] == "qr_referral_unknown"


def test_a_retry_of_a_guided_registration_gets_its_visit_not_a_replay_refusal(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    token = code(edge_settings)
    first = register(client, "guided-0011", qr_code=token)
    retry = register(client, "guided-0011", qr_code=token)  # the answer was lost: same key

    assert retry.status_code == 200 and retry.json()["outcome"] == "replayed"
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["referral_id"] == REFERRAL
    assert [kind for kind, _ in events(edge_settings)] == ["visit.registered",
                                                           "channel.qr_check_in"]


def test_guessing_codes_is_limited_per_tablet(
    client: TestClient, edge_settings: EdgeSettings,
) -> None:
    answers = [client.post("/api/v1/kiosk/qr/verify", json={"code": f"AC1.guess{i}.x"},
                           headers=AUTH).status_code
               for i in range(edge_settings.kiosk_lookup_per_minute + 1)]

    assert answers[:-1] == [422] * edge_settings.kiosk_lookup_per_minute
    assert answers[-1] == 429
    assert len(events(edge_settings)) == edge_settings.kiosk_lookup_per_minute


def test_a_customer_seen_before_the_rules_were_published_is_still_judged(
    edge_settings: EdgeSettings,
) -> None:
    from tests.edge.seed import customer

    items = channel_items(edge_settings)
    rules_item = items[1]
    items[1] = rules_item.model_copy(update={"data": {
        **rules_item.data, "effective_from": iso(utcnow() - timedelta(hours=3))}})
    seen = utcnow() - timedelta(days=40)
    seed(edge_settings, [project(1, 1, "云栖府"), *items,
                         customer(5, edge_settings, 1, PHONE, visit_count=1,
                                  first_visit_at=seen, last_visit_at=seen)])
    with TestClient(create_app(edge_settings, sync=False)) as client:
        answer = register(client, "plain-0002").json()["attribution"]
    assert answer is not None and answer["label"] == "复访"


@pytest.mark.parametrize("reason", ["appeal_upheld", "visit_confirmed"])
def test_an_appeal_upheld_at_the_cloud_stands_in_the_provisional_answer(
    edge_settings: EdgeSettings, reason: str,
) -> None:
    # The customer came 10 minutes after the referral (inside the 30-minute lead time):
    # the engine alone invalidates the referral; a manager upheld the broker's appeal.
    items = channel_items(edge_settings, state="confirmed", confirmation="instant")
    referred = datetime.fromisoformat(items[2].data["created_at"])
    items[2].data["reason_code"] = reason
    seed(edge_settings, [project(1, 1, "云栖府"), *items, customer(
        5, edge_settings, 1, PHONE, first_visit_at=referred + timedelta(minutes=10),
        last_visit_at=referred + timedelta(minutes=10))])
    with TestClient(create_app(edge_settings, sync=False)) as client:
        answer = register(client, f"upheld-{reason[:6]}").json()["attribution"]
    protected = [b["broker_id"] for b in answer["brokers"]]
    # Only the person's decision keeps the broker's claim on the appliance.
    assert protected == ([BROKER] if reason == "appeal_upheld" else [])
    assert answer["owner_broker_id"] == (BROKER if reason == "appeal_upheld" else None)
