"""Reception settings from the HQ console (`reception.settings`, ADR 0051) on real
SQLite: a newer console change is applied without a rota event going up; the race both
ways — a local change made offline after the console's stands (and goes up in full), one
made before gives way; a change the cloud judged older gives way whatever the clocks
say; an item with a wrong key is skipped and the cursor still moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from edge_agent.rota import manager
from edge_agent.rota.rules import rules_of
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.store.models import ReceptionSettings, SyncState
from edge_agent.sync.downlink import apply_batch
from edge_agent.sync.metrics import SyncMetrics
from shared.envelope import DownItem
from shared.reception import DEFAULT_RULES, ReceptionRules
from shared.reception_events import ROTA_CHANGED
from tests.edge.seed import batch
from tests.edge.test_reception import MANAGER, events_of

pytestmark = pytest.mark.anyio

PROJECT = 1  # the office's default project (tests.edge.helpers)
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
HQ_USER = 3


def console(offset: int, at: datetime, *, key: str = str(PROJECT),
            supersedes_at: datetime | None = None, **rules: Any) -> DownItem:
    data: dict[str, Any] = {
        "project_id": PROJECT, "rules": ReceptionRules(**rules).model_dump(mode="json"),
        "changed_at": at.isoformat(), "changed_by": HQ_USER}
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
