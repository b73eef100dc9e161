"""Issue #19 item 7: the visitor's consent (notice version, time, tablet) is kept with the
visit on the edge and carried to the cloud in the visit's event; a registration without
it, or naming a notice the edge does not know, is refused with nothing written."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, migrations, outbox
from shared.consent import CURRENT_NOTICE_VERSION, NOTICE_VERSIONS
from shared.events import VisitRegistered
from shared.timeutil import utcnow
from tests.consent import consent_body
from tests.edge.helpers import KIOSK_TOKEN
from tests.edge.seed import project, seed
from tests.edge.test_store import raw, store_at_v7

AUTH = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
KIOSK_CONSENT_STORE = (Path(__file__).parents[2]
                       / "edge_agent/web/kiosk/src/stores/consent.ts")


@pytest.fixture
def client(edge_settings: EdgeSettings) -> Any:
    seed(edge_settings, [project(1, 1, "云栖府")])
    with TestClient(create_app(edge_settings, sync=False)) as test_client:
        yield test_client


def post(client: TestClient, key: str, **body: Any) -> Any:
    return client.post("/api/v1/kiosk/visits", json={"phone": "13800138000", "party_size": 1,
                                                     **body},
                       headers={**AUTH, "Idempotency-Key": key})


def stored_visits(settings: EdgeSettings) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute(
            "SELECT consent_notice_version, consent_method, consent_accepted_at, "
            "consent_recorded_at, consent_tablet FROM visit").fetchall()


@pytest.mark.parametrize(
    ("consent", "code"),
    [
        (None, "consent_required"),
        ({"notice_version": "2020-01-v0", "accepted_at": "2026-11-27T10:00:00Z"},
         "consent_notice_unknown"),
        ({"notice_version": CURRENT_NOTICE_VERSION}, "validation_failed"),
        ({"notice_version": CURRENT_NOTICE_VERSION, "accepted_at": "2026-11-27T10:00:00"},
         "validation_failed"),  # a time without its zone says nothing
        ({"notice_version": CURRENT_NOTICE_VERSION, "accepted_at": "1970-01-01T00:00:10Z"},
         "consent_time_invalid"),  # a tablet whose clock was reset
    ],
)
def test_a_registration_without_a_valid_consent_is_refused_and_writes_nothing(
    client: TestClient, edge_settings: EdgeSettings, consent: dict[str, Any] | None, code: str
) -> None:
    body = {} if consent is None else {"consent": consent}
    response = post(client, "no-consent-1", **body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", response.json()["detail"])  # for the receptionist
    assert stored_visits(edge_settings) == []
    status = client.get("/api/v1/kiosk/status", headers=AUTH).json()
    assert status["backlog"] == 0  # no event for the cloud either


def test_the_consent_is_stored_with_the_visit_and_sent_in_its_event(
    client: TestClient, edge_settings: EdgeSettings
) -> None:
    accepted = (utcnow() - timedelta(minutes=2)).replace(microsecond=0)
    before = utcnow()
    response = post(client, "with-consent-1", consent={
        "notice_version": CURRENT_NOTICE_VERSION, "accepted_at": accepted.isoformat()})
    assert response.status_code == 201, response.text
    [(version, method, accepted_at, recorded_at, tablet)] = stored_visits(edge_settings)
    assert (version, method) == (CURRENT_NOTICE_VERSION, "kiosk_screen")
    assert tablet == "testclient"  # the tablet's address as the agent sees it
    assert accepted_at.startswith(accepted.strftime("%Y-%m-%d %H:%M:%S"))

    async def events(session: Any) -> list[dict[str, Any]]:
        rows = await outbox.rows_between(session, 1, 10, 10)
        return [outbox.open_payload(edge_settings.cipher, row) for row in rows]

    async def read() -> list[dict[str, Any]]:
        store = await Store.open(edge_settings.database_path)
        try:
            return await store.read(events)
        finally:
            await store.close()

    [payload] = asyncio.run(read())
    event = VisitRegistered.model_validate(payload)
    assert event.consent is not None
    assert event.consent.notice_version == CURRENT_NOTICE_VERSION
    assert event.consent.method == "kiosk_screen"
    assert event.consent.accepted_at == accepted  # the tablet's time, as a hint
    assert event.consent.recorded_at >= before  # the edge's own receipt time
    assert event.consent.tablet == "testclient"
    assert recorded_at is not None


def test_a_tablet_with_a_wrong_clock_is_still_served(
    client: TestClient, edge_settings: EdgeSettings
) -> None:
    # The tablet's time is only a hint: a drifting tablet must not stop reception; the
    # edge's receipt time is the one to trust.
    skewed = (utcnow() + timedelta(hours=3)).isoformat()
    response = post(client, "skewed-tablet-1",
                    consent={"notice_version": CURRENT_NOTICE_VERSION, "accepted_at": skewed})
    assert response.status_code == 201
    [(_, _, accepted_at, recorded_at, _)] = stored_visits(edge_settings)
    assert accepted_at > recorded_at


def test_the_kiosk_shows_a_notice_version_the_edge_accepts() -> None:
    source = KIOSK_CONSENT_STORE.read_text(encoding="utf-8")
    found = re.search(r"export const NOTICE_VERSION = '([^']+)'", source)
    assert found is not None
    assert found.group(1) in NOTICE_VERSIONS
    assert found.group(1) == CURRENT_NOTICE_VERSION


@pytest.mark.anyio
async def test_v9_adds_the_consent_columns_and_invents_no_consent_for_older_visits(
    edge_settings: EdgeSettings,
) -> None:
    path = Path(edge_settings.database_path)
    store_at_v7(path)
    store = await Store.open(path, cipher=edge_settings.cipher)
    await store.close()
    assert raw(str(path), "PRAGMA user_version") == [(migrations.SCHEMA_VERSION,)]
    assert migrations.SCHEMA_VERSION >= 9  # later versions keep the consent columns
    assert stored_visits(edge_settings) == [(None, None, None, None, None)]


def test_a_replay_needs_the_consent_too(client: TestClient) -> None:
    assert post(client, "replayed-1", consent=consent_body()).status_code == 201
    again = post(client, "replayed-1")
    assert again.status_code == 422 and again.json()["code"] == "consent_required"
