"""The agent under the faults protocol 2 names, against the fake cloud over the real
broker: a link that stops moving (reconnect, bounded sends, `stalled` everywhere), a
cloud restored from an older backup (retained rows sent again), a cloud that holds
another store for this site (nothing sent, `epoch_refused`), and a full disk."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from edge_agent.main import create_app
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from shared.timeutil import utcnow
from tests.consent import consent_body
from tests.edge.conftest import StartAgent
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import KIOSK_TOKEN, eventually, outbox_seqs, register_many
from tests.edge.seed import project, seed

pytestmark = pytest.mark.anyio


def statuses(cloud: FakeCloud) -> list[str]:
    with cloud.lock:
        return [s.link for s in cloud.statuses if s.state == "online"]


async def test_a_link_that_stops_moving_is_rebuilt_and_reported_stalled(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    """The cloud's acks stop coming (a middlebox swallowing frames): the agent does not
    pile resends onto the stuck connection — it rebuilds the link each ack timeout, sends
    each event once per connection, says `stalled` after the second timeout, and moves on
    when acks come back."""
    cloud.auto_ack = False
    await register_many(store, edge_settings, 3)
    agent = await start_agent(ack_timeout_seconds=1.0, status_interval_seconds=0.5)
    await eventually(lambda: cloud.delivered_seqs()[:3] == [1, 2, 3], what="first sends")
    await eventually(lambda: agent.up.link_state == "stalled", within=10, what="stalled")
    assert agent.metrics.value("anchang_edge_sync_errors_total", where="uplink_stalled") == 1
    await eventually(lambda: "stalled" in statuses(cloud), what="stalled in a status")
    reconnects = agent.metrics.value("anchang_edge_resends_total", reason="ack_timeout")
    assert reconnects >= 3  # three events in flight, per timeout
    # Bounded: no more copies than events × connections (nothing piles up in paho).
    connections = 1 + int(reconnects // 3) + 1
    assert len(cloud.delivered_seqs()) <= 3 * connections
    cloud.auto_ack = True
    cloud.send_ack()
    await eventually(lambda: agent.up.last_acked == 3, what="moving again")
    await eventually(lambda: agent.up.link_state == "ok", what="no longer stalled")
    await eventually(lambda: statuses(cloud)[-1] == "ok", what="ok in a status")


async def test_a_cloud_found_behind_gets_the_retained_rows_again(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    await register_many(store, edge_settings, 5)
    agent = await start_agent(status_interval_seconds=0.5)
    await eventually(lambda: agent.up.last_acked == 5, what="all acked")
    assert outbox_seqs(edge_settings) == []  # acked …
    with sqlite3.connect(edge_settings.database_path) as db:
        assert db.execute("SELECT count(*) FROM outbox").fetchone() == (5,)  # … and kept
    # The cloud's database is restored to a backup taken after seq 2.
    with cloud.lock:
        for seq in (3, 4, 5):
            del cloud.applied[seq]
        cloud.applied_upto = 2
    # Its fresh answer to our next status says 2: we send 3–5 again from retained rows.
    await eventually(lambda: cloud.applied_seqs() == [1, 2, 3, 4, 5], within=15,
                     what="3–5 resent and applied")
    await eventually(lambda: agent.up.last_acked == 5, what="acked again")
    assert agent.metrics.value("anchang_edge_resends_total", reason="cloud_behind") == 3
    # A stale ack (not an answer to our status) never lowers our position.
    cloud.send_ack(1)
    await eventually(lambda: agent.metrics.value("anchang_edge_acks_total") > 0, what="ack")
    assert agent.up.last_acked == 5


async def test_retained_rows_are_pruned_after_the_window(
    store: Store, edge_settings: EdgeSettings
) -> None:
    await register_many(store, edge_settings, 3)
    now = utcnow()
    await store.write(outbox.release, 2, now=now - timedelta(days=8), rejections=[])
    await store.write(outbox.release, 3, now=now, rejections=[])
    pruned = await store.write(outbox.prune_acked, now - timedelta(days=7))
    assert pruned == 2
    with sqlite3.connect(edge_settings.database_path) as db:
        assert db.execute("SELECT seq FROM outbox").fetchall() == [(3,)]
    rewound = await store.write(outbox.rewind, 0)
    assert (rewound.waiting_again, rewound.missing) == (1, 2)  # 1–2 are gone for good


async def test_a_cloud_holding_another_store_for_this_site_gets_nothing(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, start_agent: StartAgent
) -> None:
    import uuid

    cloud.epoch = uuid.uuid4()  # the store the cloud enrolled is not this one
    await register_many(store, edge_settings, 2)
    agent = await start_agent(status_interval_seconds=0.5)
    await eventually(lambda: agent.up.refused == "epoch_refused", what="refused")
    await eventually(lambda: "epoch_refused" in statuses(cloud), what="told in a status")
    assert cloud.delivered_seqs() == [] and outbox_seqs(edge_settings) == [1, 2]
    with cloud.lock:
        cloud.epoch = agent.up.epoch  # an operator re-enrols the site
    await eventually(lambda: cloud.applied_seqs() == [1, 2], within=10, what="sent once adopted")


@pytest.fixture
def kiosk(edge_settings: EdgeSettings) -> Iterator[TestClient]:
    seed(edge_settings, [project(1, 1, "云栖府")])
    with TestClient(create_app(edge_settings, sync=False)) as client:
        yield client


def cap_database(client: TestClient, pages: int | None) -> None:
    """Every new connection of the agent's store may grow the file to `pages` pages
    (PRAGMA max_page_count): a full disk, without filling one."""
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    engine = store.engine.sync_engine

    def cap(dbapi_conn: Any, _: Any) -> None:
        if pages is not None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages:d}")

    event.listen(engine, "connect", cap)
    client.portal.call(store.engine.dispose)  # type: ignore[union-attr]


def test_a_full_disk_gets_a_clear_answer_and_loses_nothing(
    kiosk: TestClient, edge_settings: EdgeSettings
) -> None:
    auth = {"Authorization": f"Bearer {KIOSK_TOKEN}"}

    def register(n: int) -> Any:
        return kiosk.post("/api/v1/kiosk/visits", headers={**auth, "Idempotency-Key": f"k-{n:06d}"},
                          json={"phone": f"1370000{n:04d}", "party_size": 1,
                                "name": "很长的名字" * 4, "intent": "三房" * 50,
                                "consent": consent_body()})

    for n in range(3):
        assert register(n).status_code == 201
    with sqlite3.connect(edge_settings.database_path) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    cap_database(kiosk, pages)
    answers = [register(n) for n in range(3, 200)]
    full = next(a for a in answers if a.status_code != 201)
    assert full.status_code == 507
    body = full.json()
    assert body["code"] == "storage_full" and "存储空间已满" in body["detail"]
    created = 3 + sum(1 for a in answers if a.status_code == 201)
    ready = kiosk.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["storage"] == "full"
    assert kiosk.get("/api/v1/kiosk/status", headers=auth).json()["storage_full"] is True
    with sqlite3.connect(edge_settings.database_path) as db:  # nothing committed is lost
        assert [r[0] for r in db.execute("SELECT seq FROM outbox ORDER BY seq")] == list(
            range(1, created + 1))
    cap_database(kiosk, 1_000_000)  # space again
    assert register(500).status_code == 201
    assert kiosk.get("/readyz").status_code == 200
    with sqlite3.connect(edge_settings.database_path) as db:  # no gap after the refusal
        seqs = [r[0] for r in db.execute("SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, created + 2))
