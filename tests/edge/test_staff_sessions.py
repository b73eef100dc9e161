"""Edge sessions follow the cloud: the down-fed revocation list, the idle timeout, and the
kiosk's customer look-up limited per tablet and audited through the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.site import StaffActivity, TokenRevocation
from edge_agent.store.models.sync import OutboxRow
from shared import edge_token
from shared.activity import BACKGROUND_HEADER
from shared.envelope import DownItem
from shared.events import CUSTOMER_LOOKED_UP
from shared.timeutil import iso, utcnow
from tests.edge.helpers import KIOSK_TOKEN, settings_like
from tests.edge.seed import consultant, customer, project, seed

WANG = 7
KNOWN_PHONE = "13900001111"
KIOSK = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
MINE = "/api/v1/staff/customers"


@pytest.fixture
def seeded(edge_settings: EdgeSettings) -> EdgeSettings:
    seed(edge_settings, [
        project(1, 1, "云栖府"),
        consultant(2, WANG, "王顾问"),
        customer(3, edge_settings, 1, KNOWN_PHONE, visit_count=2, owner_id=WANG,
                 owner_name="王顾问"),
    ])
    return edge_settings


@pytest.fixture
def client(seeded: EdgeSettings) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, sync=False)) as test_client:
        yield test_client


def token(settings: EdgeSettings, *, sid: str = "sess-1", ago: timedelta = timedelta(0)) -> str:
    issued, _ = edge_token.issue(settings.site_key_bytes, user_id=WANG, name="王顾问",
                                 site_id=settings.site_id, roles={"consultant"},
                                 now=utcnow() - ago, session_id=sid)
    return issued


def bearer(value: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", **extra}


def revocation(offset: int, *, sid: str | None = None, ago: timedelta = timedelta(0),
               reason: str = "logout") -> DownItem:
    key = f"session:{sid}" if sid else f"user:{WANG}"
    return DownItem(offset=offset, kind="revocation", key=key, data={
        "user_id": WANG, "session_id": sid, "reason": reason,
        "revoked_at": iso(utcnow() - ago)})


def code(response: object) -> str:
    return str(response.json()["code"])  # type: ignore[attr-defined]


def test_a_logout_at_the_cloud_ends_that_sessions_edge_tokens_only(
    client: TestClient, seeded: EdgeSettings
) -> None:
    mine, other = token(seeded, sid="sess-1"), token(seeded, sid="sess-2")
    assert client.get(MINE, headers=bearer(mine)).status_code == 200

    seed(seeded, [revocation(10, sid="sess-1")])

    refused = client.get(MINE, headers=bearer(mine))
    assert (refused.status_code, code(refused)) == (401, "staff_token_revoked")
    assert client.get(MINE, headers=bearer(other)).status_code == 200


def test_a_password_change_or_disable_ends_every_older_token_not_a_newer_one(
    client: TestClient, seeded: EdgeSettings
) -> None:
    older = token(seeded, sid="a", ago=timedelta(minutes=5))
    seed(seeded, [revocation(10, ago=timedelta(minutes=1), reason="password_changed")])
    newer = token(seeded, sid="b")  # the login after the change

    assert code(client.get(MINE, headers=bearer(older))) == "staff_token_revoked"
    assert client.get(MINE, headers=bearer(newer)).status_code == 200


def test_revocations_outlive_a_resync_but_not_a_tokens_lifetime(seeded: EdgeSettings) -> None:
    async def rows() -> list[TokenRevocation]:
        store = await Store.open(seeded.database_path)
        try:
            result = await store.read(lambda s: s.exec(select(TokenRevocation)))
            return list(result.all())
        finally:
            await store.close()

    seed(seeded, [revocation(10, sid="fresh"),
                  revocation(11, sid="ancient", ago=edge_token.EDGE_TOKEN_LIFETIME * 2)])
    assert {r.key for r in asyncio.run(rows())} == {"session:fresh"}


def _age_activity(settings: EdgeSettings, minutes: int) -> None:
    async def run() -> None:
        store = await Store.open(settings.database_path)
        try:
            await store.write(lambda s: s.exec(update(StaffActivity).values(
                last_active_at=utcnow() - timedelta(minutes=minutes))))
        finally:
            await store.close()

    asyncio.run(run())


def test_an_idle_edge_token_ends_and_polls_do_not_keep_it_alive(
    client: TestClient, seeded: EdgeSettings
) -> None:
    value = token(seeded)
    assert client.get(MINE, headers=bearer(value)).status_code == 200
    _age_activity(seeded, seeded.staff_idle_minutes - 2)
    # a poll is admitted but does not count as activity …
    poll = bearer(value, **{BACKGROUND_HEADER: "1"})
    assert client.get(MINE, headers=poll).status_code == 200
    _age_activity(seeded, seeded.staff_idle_minutes + 1)
    # … so the idle timeout comes even though the app kept polling
    late = client.get(MINE, headers=poll)
    assert (late.status_code, code(late)) == (401, "staff_session_idle")
    assert "30 分钟" in late.json()["detail"]


def test_a_user_action_keeps_the_edge_token_alive(
    client: TestClient, seeded: EdgeSettings
) -> None:
    value = token(seeded)
    assert client.get(MINE, headers=bearer(value)).status_code == 200
    _age_activity(seeded, seeded.staff_idle_minutes - 2)
    assert client.get(MINE, headers=bearer(value)).status_code == 200
    _age_activity(seeded, 3)  # the action above moved it; a few minutes later all is well
    assert client.get(MINE, headers=bearer(value)).status_code == 200


def _lookups(settings: EdgeSettings) -> list[OutboxRow]:
    async def run() -> list[OutboxRow]:
        store = await Store.open(settings.database_path)
        try:
            result = await store.read(lambda s: s.exec(
                select(OutboxRow).where(OutboxRow.type == CUSTOMER_LOOKED_UP)))
            return list(result.all())
        finally:
            await store.close()

    return asyncio.run(run())


def test_kiosk_lookups_are_limited_per_tablet_and_audited(seeded: EdgeSettings) -> None:
    limited = settings_like(seeded, kiosk_lookup_per_minute=3)
    app = create_app(limited, sync=False)
    params = {"phone": KNOWN_PHONE, "project_id": "1"}
    with TestClient(app, client=("192.168.1.21", 5000)) as tablet_a, \
            TestClient(app, client=("192.168.1.22", 5000)) as tablet_b:
        for _ in range(3):
            assert tablet_a.get("/api/v1/kiosk/customers/lookup", params=params,
                                headers=KIOSK).status_code == 200
        refused = tablet_a.get("/api/v1/kiosk/customers/lookup", params=params, headers=KIOSK)
        assert (refused.status_code, code(refused)) == (429, "too_many_lookups")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # another tablet has its own allowance
        other = tablet_b.get("/api/v1/kiosk/customers/lookup",
                             params={"phone": "13800138000", "project_id": "1"}, headers=KIOSK)
        assert other.status_code == 200

    payloads = [outbox.open_payload(limited.cipher, row) for row in _lookups(limited)]
    # the refused look-up answered nothing, so there is nothing to audit
    assert len(payloads) == 4
    assert sorted((p["tablet"], p["known"]) for p in payloads) == [
        ("192.168.1.21", True)] * 3 + [("192.168.1.22", False)]
    assert {p["phone"] for p in payloads} == {KNOWN_PHONE, "13800138000"}
