"""Reception settings from the HQ console (`reception.settings`, ADR 0051) on real
SQLite: a newer console change is applied without a rota event going up; the race both
ways — a local change made offline after the console's stands (and goes up in full), one
made before gives way; a change the cloud judged older gives way whatever the clocks
say; an item with a wrong key is skipped and the cursor still moves. The console's change
that replaced values here is told to the sales manager until one is made here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from edge_agent.main import create_app
from edge_agent.rota import manager
from edge_agent.rota.rules import hq_change, rules_of
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.store.models.reception import ReceptionSettings
from edge_agent.store.models.sync import SyncState
from edge_agent.sync.downlink import apply_batch
from edge_agent.sync.metrics import SyncMetrics
from shared import edge_token
from shared.envelope import DownItem
from shared.reception import DEFAULT_RULES, ReceptionRules
from shared.reception_events import ROTA_CHANGED
from shared.timeutil import utcnow
from tests.edge.seed import batch, seed
from tests.edge.test_reception import MANAGER, WANG, events_of, roster

pytestmark = pytest.mark.anyio

PROJECT = 1  # the office's default project (tests.edge.helpers)
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
HQ_USER = 3


def console(offset: int, at: datetime, *, key: str = str(PROJECT),
            supersedes_at: datetime | None = None, by: int = HQ_USER, **rules: Any) -> DownItem:
    data: dict[str, Any] = {
        "project_id": PROJECT, "rules": ReceptionRules(**rules).model_dump(mode="json"),
        "changed_at": at.isoformat(), "changed_by": by}
    if supersedes_at is not None:
        data["supersedes_at"] = supersedes_at.isoformat()
    return DownItem(offset=offset, kind="reception.settings", key=key, data=data)


async def feed(store: Store, settings: EdgeSettings, *items: DownItem,
               metrics: SyncMetrics | None = None) -> None:
    cursor = await store.read(lambda s: s.get(SyncState, 1))
    await store.write(apply_batch, batch(settings, list(items),
                                         cursor=cursor.down_cursor if cursor else 0),
                      T0 + timedelta(hours=1), metrics, settings.cipher)


async def rules(store: Store) -> ReceptionRules:
    return await store.read(rules_of, PROJECT)


async def local_change(store: Store, settings: EdgeSettings, at: datetime,
                       **values: Any) -> None:
    await store.write(manager.set_rules, settings, ReceptionRules(**values), MANAGER, at)


async def test_a_console_change_is_applied_and_not_sent_back(
        store: Store, edge_settings: EdgeSettings) -> None:
    await feed(store, edge_settings, console(1, T0, order_mode="fewest_new", claim_days=5))
    assert await rules(store) == ReceptionRules(order_mode="fewest_new", claim_days=5)
    row = await store.read(lambda s: s.get(ReceptionSettings, PROJECT))
    assert row is not None and row.updated_by == HQ_USER
    assert await events_of(store, edge_settings, ROTA_CHANGED) == []
    # A replay of the same item, and an older one after it, change nothing.
    await feed(store, edge_settings, console(2, T0 - timedelta(minutes=1), claim_days=9),
               console(3, T0, order_mode="fewest_new", claim_days=5))
    assert await rules(store) == ReceptionRules(order_mode="fewest_new", claim_days=5)


async def test_a_local_change_made_offline_after_the_consoles_wins(
        store: Store, edge_settings: EdgeSettings) -> None:
    await local_change(store, edge_settings, T0 + timedelta(minutes=2), refusal_suspend_days=3)
    await feed(store, edge_settings, console(1, T0, claim_days=4))
    assert await rules(store) == ReceptionRules(refusal_suspend_days=3)
    [sent] = await events_of(store, edge_settings, ROTA_CHANGED)
    assert sent["action"] == "settings_changed"
    detail = sent["detail"]
    assert isinstance(detail, dict)
    assert detail["rules"] == ReceptionRules(refusal_suspend_days=3).model_dump(mode="json")
    assert detail["changed"] == {"refusal_suspend_days": [7, 3]}


async def test_a_local_change_older_than_the_consoles_gives_way(
        store: Store, edge_settings: EdgeSettings) -> None:
    await local_change(store, edge_settings, T0 - timedelta(minutes=2), refusal_suspend_days=3)
    await feed(store, edge_settings, console(1, T0, claim_days=4))
    assert await rules(store) == ReceptionRules(claim_days=4)


async def test_a_change_the_cloud_judged_older_gives_way_whatever_the_clocks(
        store: Store, edge_settings: EdgeSettings) -> None:
    """The appliance's clock ran ahead: by its clock its change is the newer, by the
    cloud's (skew-corrected) the older. The cloud's answer names that change."""
    local_at = T0 + timedelta(minutes=5)
    await local_change(store, edge_settings, local_at, claim_days=1)
    await feed(store, edge_settings, console(1, T0, claim_days=4))
    assert await rules(store) == ReceptionRules(claim_days=1)
    await feed(store, edge_settings, console(2, T0, supersedes_at=local_at, claim_days=4))
    assert await rules(store) == ReceptionRules(claim_days=4)
    # A later local change is not given up for an answer about an earlier one.
    await local_change(store, edge_settings, local_at + timedelta(minutes=1), claim_days=2)
    await feed(store, edge_settings, console(3, T0, supersedes_at=local_at, claim_days=4))
    assert await rules(store) == ReceptionRules(claim_days=2)


async def test_an_item_with_a_wrong_key_is_skipped(
        store: Store, edge_settings: EdgeSettings) -> None:
    metrics = SyncMetrics(CollectorRegistry())
    await feed(store, edge_settings, console(1, T0, key="2", claim_days=4),
               console(2, T0, claim_days=6), metrics=metrics)
    assert await rules(store) == ReceptionRules(claim_days=6)
    assert metrics.value("anchang_edge_down_items_invalid_total",
                         kind="reception.settings") == 1
    state = await store.read(lambda s: s.get(SyncState, 1))
    assert state is not None and state.down_cursor == 2
    assert DEFAULT_RULES.claim_days == 2  # what an appliance without any item uses


async def test_the_consoles_change_is_told_until_one_is_made_here(
        store: Store, edge_settings: EdgeSettings) -> None:
    await local_change(store, edge_settings, T0 - timedelta(minutes=5), claim_days=3)
    assert await store.read(hq_change, PROJECT) is None  # our own change: nothing to tell
    await feed(store, edge_settings, console(1, T0, claim_days=5, refusal_suspend_days=3))
    told = await store.read(hq_change, PROJECT)
    assert told is not None
    assert (told.at, told.by_name, told.fields) == (
        T0, None, ["“来过但忘了顾问”认领期", "拒接客户停岗"])
    # Our own change echoed back (same values, a later stamp) keeps what HQ changed.
    await feed(store, edge_settings, console(2, T0 + timedelta(minutes=1), claim_days=5,
                                             refusal_suspend_days=3))
    assert await store.read(hq_change, PROJECT) == told
    await local_change(store, edge_settings, T0 + timedelta(minutes=2), claim_days=5)
    assert await store.read(hq_change, PROJECT) is None


async def test_a_console_change_losing_to_ours_is_not_told(
        store: Store, edge_settings: EdgeSettings) -> None:
    await local_change(store, edge_settings, T0 + timedelta(minutes=2), claim_days=3)
    await feed(store, edge_settings, console(1, T0, claim_days=4))
    assert await store.read(hq_change, PROJECT) is None


def test_the_manager_reads_what_hq_changed_over_the_api(edge_settings: EdgeSettings) -> None:
    at = utcnow().replace(microsecond=0)
    seed(edge_settings, roster(edge_settings))

    async def from_console() -> None:
        store = await Store.open(edge_settings.database_path)
        try:
            await feed(store, edge_settings, console(7, at, by=MANAGER, order_mode="fewest_new"))
        finally:
            await store.close()

    asyncio.run(from_console())

    def bearer(user: int, role: str) -> dict[str, str]:
        token, _ = edge_token.issue(edge_settings.site_key_bytes, user_id=user, name="x",
                                    site_id=edge_settings.site_id, roles=frozenset({role}),
                                    now=utcnow())
        return {"Authorization": f"Bearer {token}"}

    with TestClient(create_app(edge_settings, sync=False)) as client:
        path = "/api/v1/staff/reception/settings/hq-change"
        told = client.get(path, headers=bearer(MANAGER, "sales_manager"))
        assert told.status_code == 200, told.text
        # The manager used the console: named, since they are on this office's roster.
        assert told.json() == {"changed_at": at.isoformat().replace("+00:00", "Z"),
                               "changed_by_name": "孙经理", "fields": ["接待顺序"]}
        refused = client.get(path, headers=bearer(WANG, "consultant"))
        assert refused.json()["code"] == "manager_required"
        rules = ReceptionRules(order_mode="fewest_new", claim_days=4).model_dump(mode="json")
        saved = client.put("/api/v1/staff/reception/settings", json=rules,
                           headers=bearer(MANAGER, "sales_manager"))
        assert saved.status_code == 200, saved.text
        assert client.get(path, headers=bearer(MANAGER, "sales_manager")).json() is None
