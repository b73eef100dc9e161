"""A deletion carried out at the cloud reaches the appliance (issue #19 item 7): the
down-feed's erased customer item drops the cached customer and anonymises the visits and
follow-ups the appliance holds of that person; everyone else's stay as they were."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

from edge_agent.kiosk.listings import visits_on_day
from edge_agent.kiosk.lookup import lookup_customer
from edge_agent.kiosk.schemas import VisitIn
from edge_agent.kiosk.service import register_visit
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from edge_agent.sync.downlink import apply_batch
from shared.envelope import DownItem
from shared.timeutil import utcnow
from tests.consent import consent_in
from tests.edge.seed import batch, customer, project

pytestmark = pytest.mark.anyio
ERASED_PHONE, OTHER_PHONE = "13512345678", "13687654321"


def erasure(offset: int, settings: EdgeSettings, project_id: int, phone: str) -> DownItem:
    """The item the cloud appends when it carries out a deletion (erased_feed_item)."""
    bidx = settings.blind_index.phone(phone)
    return DownItem(offset=offset, kind="customer", key=f"{project_id}:{bidx}",
                    data={"project_id": project_id, "phone_bidx": bidx,
                          "phone_masked": "已删除", "erased": True})


def rows(settings: EdgeSettings, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.database_path) as db:
        return db.execute(sql).fetchall()


async def _visit(store: Store, settings: EdgeSettings, phone: str) -> str:
    result = await register_visit(store, settings, VisitIn(
        phone=phone, name="张三丰", intent="三房，预算 500 万", party_size=2,
        consent=consent_in()))
    return result.visit.id.hex


def _follow_up(settings: EdgeSettings, visit_id: str, phone: str) -> None:
    with sqlite3.connect(settings.database_path) as db:
        db.execute(
            "INSERT INTO follow_up (id, visit_id, project_id, phone_bidx, phone_masked, "
            "consultant_id, kind, reached, note_enc, occurred_at, recorded_at, seq, event_id) "
            "VALUES (?, ?, 1, ?, '135****5678', 7, 'call', 1, 'sealed-note', "
            "'2026-11-27 10:00:00', '2026-11-27 10:00:00', ?, ?)",
            (uuid.uuid4().hex, visit_id, settings.blind_index.phone(phone),
             len(visit_id), uuid.uuid4().hex))


async def test_an_erasure_drops_the_cache_row_and_anonymises_visits_and_follow_ups(
    store: Store, edge_settings: EdgeSettings
) -> None:
    await store.write(apply_batch, batch(edge_settings, [
        project(1, 1, "云栖府"),
        customer(2, edge_settings, 1, ERASED_PHONE, visit_count=2, owner_id=7,
                 owner_name="王顾问", name_masked="张**"),
        customer(3, edge_settings, 1, OTHER_PHONE, visit_count=1),
    ]), utcnow())
    erased_visit = await _visit(store, edge_settings, ERASED_PHONE)
    other_visit = await _visit(store, edge_settings, OTHER_PHONE)
    _follow_up(edge_settings, erased_visit, ERASED_PHONE)

    await store.write(apply_batch, batch(edge_settings, [
        erasure(4, edge_settings, 1, ERASED_PHONE)], cursor=3), utcnow())

    cached = rows(edge_settings, "SELECT phone_bidx FROM customer_cache")
    assert cached == [(edge_settings.blind_index.phone(OTHER_PHONE),)]
    [erased] = rows(edge_settings, "SELECT phone_enc, phone_bidx, phone_masked, name_enc, "
                                   f"intent_enc FROM visit WHERE id = '{erased_visit}'")
    assert erased[0] == "" and erased[1].startswith("erased:")
    assert erased[2:] == ("已删除", None, None)
    [kept] = rows(edge_settings, "SELECT phone_bidx, phone_masked, name_enc, intent_enc "
                                 f"FROM visit WHERE id = '{other_visit}'")
    assert kept[0] == edge_settings.blind_index.phone(OTHER_PHONE)
    assert kept[1] == "136****4321" and kept[2] is not None and kept[3] is not None
    [note] = rows(edge_settings, "SELECT phone_bidx, phone_masked, note_enc FROM follow_up")
    assert note[0].startswith("erased:") and note[0] != erased[1] and note[1:] == ("已删除", None)
    # The consent record names no one: it stays with the anonymous visit.
    assert rows(edge_settings, "SELECT count(*) FROM visit WHERE consent_notice_version "
                               "IS NOT NULL") == [(2,)]
    # The person is unknown here now; the day's count is unchanged.
    view, _ = await lookup_customer(store, edge_settings, ERASED_PHONE)
    assert not view.known and view.prior_visits == 0
    assert len(await visits_on_day(store)) == 2
    # Replaying the batch (a crash before the cursor was kept) changes nothing more.
    await store.write(apply_batch, batch(edge_settings, [
        erasure(4, edge_settings, 1, ERASED_PHONE)], cursor=3), utcnow())
    assert rows(edge_settings, f"SELECT phone_bidx FROM visit WHERE id = '{erased_visit}'") == [
        (erased[1],)]


async def test_an_erasure_applies_even_when_the_person_came_back_in_the_same_batch(
    store: Store, edge_settings: EdgeSettings
) -> None:
    await store.write(apply_batch, batch(edge_settings, [project(1, 1, "云栖府")]), utcnow())
    old_visit = await _visit(store, edge_settings, ERASED_PHONE)
    await store.write(apply_batch, batch(edge_settings, [
        erasure(2, edge_settings, 1, ERASED_PHONE),
        customer(3, edge_settings, 1, ERASED_PHONE, visit_count=1),  # a new customer since
    ], cursor=1), utcnow())
    [(bidx, masked)] = rows(edge_settings, "SELECT phone_bidx, phone_masked FROM visit "
                                           f"WHERE id = '{old_visit}'")
    assert bidx.startswith("erased:") and masked == "已删除"
    assert rows(edge_settings, "SELECT visit_count FROM customer_cache") == [(1,)]


async def test_a_resync_snapshot_with_an_erasure_erases_too(
    store: Store, edge_settings: EdgeSettings
) -> None:
    await store.write(apply_batch, batch(edge_settings, [project(1, 1, "云栖府")]), utcnow())
    old_visit = await _visit(store, edge_settings, ERASED_PHONE)
    await store.write(apply_batch, batch(edge_settings, [
        project(10, 1, "云栖府"), erasure(11, edge_settings, 1, ERASED_PHONE)],
        cursor=99, resync=True), utcnow())
    [(bidx,)] = rows(edge_settings, f"SELECT phone_bidx FROM visit WHERE id = '{old_visit}'")
    assert bidx.startswith("erased:")
