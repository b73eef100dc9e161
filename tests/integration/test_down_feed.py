"""The cloud → edge change feed over real Mosquitto: roster, customer cache, cursor acks,
resync after pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.identity import service as identity_service
from cloud.settings import CloudSettings
from cloud.sync import feed
from cloud.sync.consumer import SyncConsumer
from cloud.sync.models import DownFeed, SiteLink
from shared.crypto import BlindIndex
from shared.envelope import DownBatch, DownRequest
from shared.timeutil import utcnow
from tests.integration.conftest import ProvisionedSite
from tests.integration.peer import Peer, envelope, visit_payload, wait_for

pytestmark = pytest.mark.integration


def request(peer: Peer, site: ProvisionedSite, cursor: int, limit: int = 500) -> DownBatch:
    before = len(peer.batches)
    msg = DownRequest(site_id=site.site_id, cursor=cursor, limit=limit, sent_at=utcnow())
    peer.publish(peer.topics.down_request, msg.signed(site.key).to_wire())
    batch: DownBatch = wait_for(lambda: peer.batches[before] if len(peer.batches) > before
                                else None, what="a down-feed batch")
    batch.verify(site.key)
    return batch


def test_roster_projects_and_customers_flow_down_with_a_site_keyed_index(
    engine: Engine, consumer: SyncConsumer, peer_a: Peer, sites: tuple[ProvisionedSite, ...]
) -> None:
    a, b = sites
    with Session(engine) as s:
        identity_service.create_user(s, username="wanglei", password="Wl#2026-consultant",
                                     display_name="王磊", roles=["consultant"],
                                     site_ids=[a.site_id], actor="test")
        identity_service.create_user(s, username="other", password="Ot#2026-consultant",
                                     display_name="别的案场", roles=["consultant"],
                                     site_ids=[b.site_id], actor="test")
        s.commit()
    first = request(peer_a, a, 0)
    kinds = {(i.kind, i.data.get("name")) for i in first.items}
    assert ("consultant", "王磊") in kinds and ("project", "星河湾") in kinds
    assert all(i.data.get("name") != "别的案场" for i in first.items)
    # Nothing new: the same cursor gives an empty batch, and the cursor ack is stored.
    again = request(peer_a, a, first.next_cursor)
    assert again.items == [] and again.next_cursor == first.next_cursor
    with Session(engine) as s:
        link = s.get(SiteLink, a.site_id)
        assert link is not None and link.down_cursor_acked == first.next_cursor
    peer_a.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13812345678")))
    peer_a.wait_ack(1)
    later = request(peer_a, a, first.next_cursor)
    (item,) = later.items
    assert item.kind == "customer" and item.data["visit_count"] == 1
    # The index is the site's own: the edge computes it with its key, no global secret.
    assert item.data["phone_bidx"] == BlindIndex(a.key).phone("13812345678")
    assert item.data["phone_masked"] == "138****5678"
    assert "13812345678" not in later.to_wire().decode()


def test_paging_and_a_cursor_older_than_the_feed_keeps_gets_a_resync(
    engine: Engine, settings: CloudSettings, consumer: SyncConsumer, peer_a: Peer,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    a = sites[0]
    for seq in range(1, 6):
        peer_a.send(envelope(a.site_id, a.key, seq,
                             visit_payload(a.project_id, f"1380000000{seq}")))
    peer_a.wait_ack(5)
    page = request(peer_a, a, 0, limit=2)
    assert len(page.items) == 2 and page.more
    # Age everything, prune: the edge's cursor 0 now predates the feed.
    with Session(engine) as s:
        s.execute(update(DownFeed).values(created_at=utcnow() - timedelta(days=60)))
        removed = feed.prune(s, retention_days=30)
        s.commit()
    assert removed >= 6
    resync = request(peer_a, a, 0)
    assert resync.resync
    customers = [i for i in resync.items if i.kind == "customer"]
    assert len(customers) == 5 and any(i.kind == "project" for i in resync.items)
    # A lost or replayed request gets the same snapshot, not another one.
    replay = request(peer_a, a, 0)
    assert replay.resync and [i.offset for i in replay.items] == [i.offset for i in resync.items]
    after = request(peer_a, a, resync.next_cursor)
    assert not after.resync and after.items == []
    with Session(engine) as s:
        link = s.get(SiteLink, a.site_id)
        assert link is not None and link.feed_floor > 0
        left = s.exec(select(DownFeed).where(col(DownFeed.offset) <= link.feed_floor)).all()
        assert left == []
