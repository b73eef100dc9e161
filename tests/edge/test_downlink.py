"""Down-feed: applied once with its cursor, stale batches ignored, resync snapshots."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from edge_agent.kiosk.lookup import lookup_customer
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.sync.agent import SyncAgent
from edge_agent.sync.downlink import apply_batch
from edge_agent.sync.metrics import SyncMetrics
from shared.crypto import decode_key, new_key
from shared.envelope import DownBatch, DownItem
from shared.timeutil import utcnow
from tests.edge.fake_cloud import FakeCloud
from tests.edge.helpers import eventually
from tests.edge.seed import batch, consultant, customer, project

pytestmark = pytest.mark.anyio
PHONE = "13512345678"


@pytest.fixture
async def agent(store: Store, edge_settings: EdgeSettings) -> AsyncIterator[SyncAgent]:
    running = SyncAgent(edge_settings, store, SyncMetrics(CollectorRegistry()))
    yield running
    await running.stop()


def rows(settings: EdgeSettings, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute(sql).fetchall()


def feed(settings: EdgeSettings) -> list[DownItem]:
    return [
        project(1, 1, "云栖府"),
        consultant(2, 7, "王顾问"),
        consultant(3, 8, "李顾问"),
        customer(4, settings, 1, PHONE, visit_count=3, owner_id=7, owner_name="王顾问",
                 last_visit_at=utcnow() - timedelta(days=2),
                 protection_until=utcnow() + timedelta(days=28), customer_ref="C-1001"),
        project(5, 1, "云栖府·二期"),  # an update of project 1: the later offset wins
    ]


async def test_feed_is_paged_applied_once_and_stale_batches_are_ignored(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, agent: SyncAgent
) -> None:
    cloud.page_size = 2
    cloud.feed = feed(edge_settings)
    await agent.start()
    await eventually(lambda: agent.down.cursor == 5, what="the whole feed")
    assert (await store.read(outbox.backlog)).down_cursor == 5
    with cloud.lock:
        cursors = [r.cursor for r in cloud.down_requests]
    assert cursors[:3] == [0, 2, 4]  # more=True → asked again at once, cursor = the ack
    assert rows(edge_settings, "SELECT id, name FROM project") == [(1, "云栖府·二期")]
    assert rows(edge_settings, "SELECT id FROM consultant ORDER BY id") == [(7,), (8,)]
    view, masked = await lookup_customer(store, edge_settings, PHONE)
    assert view.known and view.classification == "return_visit" and view.prior_visits == 3
    assert view.owner_name == "王顾问" and masked == "135****5678"
    assert view.provisional is False  # the cloud's view is fresh
    # A replayed old page (cursor 2 ≠ ours) is ignored: the rename is not undone.
    cloud.publish_batch(DownBatch(
        site_id=edge_settings.site_id, generation="gen-1", cursor=2, next_cursor=4,
        items=[project(3, 1, "旧名字")]))
    await eventually(
        lambda: agent.metrics.value("anchang_edge_down_batches_ignored_total", reason="stale") >= 1,
        what="stale batch ignored",
    )
    assert rows(edge_settings, "SELECT name FROM project") == [("云栖府·二期",)]
    assert agent.down.cursor == 5
    # A forged batch is dropped before anything else.
    cloud.publish_batch(DownBatch(
        site_id=edge_settings.site_id, generation="gen-1", cursor=5, next_cursor=6,
        items=[project(6, 9, "伪造")]), key=decode_key(new_key()))
    await eventually(
        lambda: agent.metrics.value("anchang_edge_rejected_messages_total",
                                    reason="bad_signature") == 1,
        what="forged batch rejected",
    )
    assert rows(edge_settings, "SELECT id FROM project") == [(1,)] and agent.down.cursor == 5


async def test_resync_replaces_the_caches_with_the_snapshot(
    store: Store, edge_settings: EdgeSettings, cloud: FakeCloud, agent: SyncAgent
) -> None:
    cloud.feed = feed(edge_settings)
    await agent.start()
    await eventually(lambda: agent.down.cursor == 5, what="initial feed")
    # The cloud compacts its feed: consultant 8 left, a new project; our cursor is too old.
    cloud.feed = [project(101, 1, "云栖府·二期"), consultant(102, 7, "王顾问"),
                  project(103, 2, "滨江府")]
    cloud.feed_floor = 100
    await eventually(lambda: agent.down.cursor == 103, what="resync snapshot")
    assert rows(edge_settings, "SELECT id FROM project ORDER BY id") == [(1,), (2,)]
    assert rows(edge_settings, "SELECT id FROM consultant") == [(7,)]
    assert rows(edge_settings, "SELECT count(*) FROM customer_cache") == [(0,)]


async def test_applying_the_same_batch_twice_changes_nothing(
    store: Store, edge_settings: EdgeSettings
) -> None:
    first = batch(edge_settings, feed(edge_settings))
    await store.write(apply_batch, first, utcnow())
    # Every column but updated_at (the time of applying).
    columns = ("key, project_id, phone_bidx, phone_masked, owner_id, owner_name, visit_count, "
               "first_visit_at, last_visit_at, protection_until, last_effective_at, customer_ref")
    snapshot = rows(edge_settings, f"SELECT {columns} FROM customer_cache")
    await store.write(apply_batch, first, utcnow())  # a replay after a crash
    assert rows(edge_settings, f"SELECT {columns} FROM customer_cache") == snapshot
    assert rows(edge_settings, "SELECT count(*) FROM project") == [(1,)]
    assert (await store.read(outbox.backlog)).down_cursor == 5


async def test_invalid_items_are_skipped_not_blocking_the_feed(
    store: Store, edge_settings: EdgeSettings
) -> None:
    items = [
        project(1, 1, "云栖府"),
        DownItem(offset=2, kind="consultant", key="9", data={"id": 8, "name": "键不符"}),
        DownItem(offset=3, kind="customer", key="1:x", data={"project_id": 1, "phone_bidx": "x"}),
        consultant(4, 7, "王顾问"),
    ]
    await store.write(apply_batch, batch(edge_settings, items), utcnow())
    assert rows(edge_settings, "SELECT id FROM consultant") == [(7,)]
    assert rows(edge_settings, "SELECT count(*) FROM customer_cache") == [(0,)]
    assert (await store.read(outbox.backlog)).down_cursor == 4
