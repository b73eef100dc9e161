"""§10: the down-feed — pull with a cursor that acknowledges, pages of at most `limit`
items, a `generation` that names the feed, and a resync whenever a cursor cannot be
continued (below the floor, beyond the head, of another generation). §12: the restore
procedure's new generation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge, wait_for
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration


def test_the_first_request_gets_the_sites_projects_and_staff(target: Target, edge: Edge,
                                                             site: SiteAccess) -> None:
    """§10: cursor 0 and no generation yet: the items after 0 — the project (key: its id)
    and the staff (consultants) — with the feed's generation."""
    consultant = target.consultant(site.site_id)
    batch = edge.ask(0)
    assert (batch["cursor"], batch["resync"], batch["more"]) == (0, False, False)
    items = {(i["kind"], i["key"]): i["data"] for i in batch["items"]}
    project = items[("project", str(site.project_id))]
    assert project["id"] == site.project_id and isinstance(project["name"], str)
    staff = items[("consultant", str(consultant))]
    assert staff["id"] == consultant and staff["active"] is True
    assert staff["roles"] == ["consultant"]


def test_pages_follow_the_cursor_and_a_request_can_be_repeated(target: Target, edge: Edge,
                                                               site: SiteAccess) -> None:
    """§10: `limit` bounds a page, `more` says more wait, `next_cursor` is the last
    item's offset; the same request asked again gets the same items (nothing is consumed
    by asking)."""
    for _ in range(2):
        target.consultant(site.site_id)
    whole = edge.ask(0, limit=2000)
    generation = whole["generation"]
    pages, cursor = [], 0
    while True:
        page = edge.ask(cursor, generation=generation, limit=1)
        assert len(page["items"]) == 1 and page["cursor"] == cursor
        pages.append(page["items"][0])
        cursor = page["next_cursor"]
        if not page["more"]:
            break
    assert pages == whole["items"]
    again = edge.ask(pages[0]["offset"], generation=generation, limit=1)
    assert again["items"] == [pages[1]]
    end = edge.ask(cursor, generation=generation)
    assert (end["items"], end["next_cursor"], end["resync"]) == ([], cursor, False)


def test_a_visit_puts_the_customer_in_the_feed_under_the_site_keyed_index(
    edge: Edge, site: SiteAccess
) -> None:
    """§10 customer items: key `{project_id}:{phone_bidx}` with phone_bidx =
    HMAC-SHA256(site key, "phone:" + number) and the documented data fields."""
    phone = wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, phone)))
    edge.acked(1)
    customer = edge.customer(site.project_id, phone)
    assert customer is not None
    assert customer["phone_bidx"] == wire.phone_bidx(site.key, phone)
    assert customer["project_id"] == site.project_id
    assert customer["phone_masked"] == phone[:3] + "****" + phone[-4:]
    assert customer["name_masked"] == "陈**"
    assert customer["visit_count"] == 1 and isinstance(customer["customer_ref"], str)
    for field in ("first_visit_at", "last_visit_at", "protection_until"):
        assert wire.TIME.match(customer[field])
    assert {"owner_id", "owner_name", "last_effective_at"} <= set(customer)


def _resync_holds_the_site(batch: dict[str, object], site: SiteAccess) -> None:
    items = batch["items"]
    assert isinstance(items, list)
    assert batch["resync"] is True
    assert ("project", str(site.project_id)) in {(i["kind"], i["key"]) for i in items}


def test_a_cursor_beyond_the_head_is_answered_with_a_resync(edge: Edge, site: SiteAccess
                                                            ) -> None:
    """§10: a cursor the feed never reached (the cloud's database went back) gets a
    resync whose items state the site; the cursor is not stored — the edge's real
    position continues normally."""
    first = edge.ask(0)
    batch = edge.ask(wire.MAX_WIRE_INT, generation=first["generation"])
    assert batch["cursor"] == wire.MAX_WIRE_INT
    _resync_holds_the_site(batch, site)
    assert batch["next_cursor"] <= first["next_cursor"] or batch["items"]
    normal = edge.ask(first["next_cursor"], generation=first["generation"])
    assert normal["resync"] is False


def test_a_cursor_below_the_floor_is_answered_with_a_resync(target: Target, edge: Edge,
                                                            site: SiteAccess) -> None:
    """§10: after the retention pruned what a cursor points into, the answer is a resync
    snapshot at new offsets; continuing from its next_cursor is no resync."""
    phone = wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, phone)))
    edge.acked(1)
    first = edge.ask(0)
    target.prune_feed(site.site_id)
    batch = edge.ask(0, generation=first["generation"])
    _resync_holds_the_site(batch, site)
    keys = {i["key"] for i in batch["items"]}
    assert f"{site.project_id}:{wire.phone_bidx(site.key, phone)}" in keys
    assert min(i["offset"] for i in batch["items"]) > first["next_cursor"]
    after = edge.ask(batch["next_cursor"], generation=batch["generation"])
    assert after["resync"] is False


def test_a_cursor_of_another_generation_is_answered_with_a_resync(edge: Edge,
                                                                  site: SiteAccess) -> None:
    """§10: a generation other than the feed's — whatever the cursor — gets a resync."""
    first = edge.ask(0)
    batch = edge.ask(first["next_cursor"], generation="not-" + first["generation"][:60])
    _resync_holds_the_site(batch, site)
    assert batch["generation"] == first["generation"]


def test_a_new_generation_after_a_restore_makes_every_edge_resync(target: Target,
                                                                  edge: Edge,
                                                                  site: SiteAccess) -> None:
    """§12: `anchang sync new-generation` after restoring the cloud's database: the
    edge's cursor belongs to the old generation, so its next request is a resync."""
    first = edge.ask(0)
    target.new_generation()
    batch = edge.ask(first["next_cursor"], generation=first["generation"])
    _resync_holds_the_site(batch, site)
    assert batch["generation"] != first["generation"]
    after = edge.ask(batch["next_cursor"], generation=batch["generation"])
    assert after["resync"] is False


@pytest.fixture
def restart_afterwards(target: Target) -> Iterator[None]:
    """An oversized answer may wedge the cloud's MQTT client (see the finding): start it
    afresh for the tests that follow."""
    yield
    target.restart_cloud()


def test_a_batch_never_exceeds_the_message_limit(edge: Edge, site: SiteAccess,
                                                 restart_afterwards: None) -> None:
    """§2.1, §10, §15: a DownBatch stays within 262,144 bytes — fewer than `limit` items
    and `more: true` when the next item would pass it."""
    count = 520
    for seq in range(1, count + 1):
        edge.send(edge.envelope(seq, wire.visit(site.project_id, wire.phone())))
    wait_for(lambda: edge.acks and edge.acks[-1]["acked_seq"] == count, timeout=30,
             what="all visits applied")
    before = len(edge.batches)
    edge.publish("down/req", wire.wire(wire.down_request(site.site_id, 0, limit=2000),
                                       site.key))
    batch = wait_for(lambda: len(edge.batches) > before and edge.batches[before], timeout=5,
                     what="a batch within the limit")
    assert len(edge.raw_batches[before]) <= wire.MAX_MESSAGE_BYTES
    assert batch["more"] is True
