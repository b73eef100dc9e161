"""The down-feed on the real PostgreSQL: a batch always fits the protocol's message limit,
a cursor the feed cannot continue from (beyond its head, of another generation) gets
a resync and is never stored, and appends wait for their site's lock."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from cloud.sync import feed, provision
from cloud.sync.keys import site_key
from cloud.sync.models import SiteLink
from shared.envelope import MAX_MESSAGE_BYTES
from tests.cloud.migration_drift import drift

SITE = "site-f"


def link_of(db: Session, settings: CloudSettings) -> tuple[SiteLink, bytes]:
    link = db.exec(select(SiteLink).where(SiteLink.site_id == SITE)).one()
    return link, site_key(settings, link)


def test_a_batch_fits_the_message_limit_whatever_the_limit_asked(
    db: Session, settings: CloudSettings
) -> None:
    provision.provision_site(db, settings=settings, site_id=SITE, name="F", projects=["一期"])
    for n in range(700):  # customer-sized items, ~0.5 KB each
        feed.append(db, SITE, "customer", f"1:{n:064x}", {"phone_bidx": f"{n:064x}",
                    "owner_name": "王磊", "phone_masked": "138****5678", "note": "x" * 400})
    db.flush()
    link, key = link_of(db, settings)
    cursor, seen = 0, 0
    while True:
        batch = feed.batch_after(db, settings=settings, link=link, site_key=key,
                                 cursor=cursor, limit=2000, generation=link.feed_generation)
        assert len(batch.signed(key).to_wire()) < MAX_MESSAGE_BYTES
        seen += len(batch.items)
        cursor = batch.next_cursor
        if not batch.more:
            break
    assert seen >= 700 and link.down_cursor_acked > 0


def test_a_cursor_beyond_the_head_or_of_another_generation_resyncs(
    db: Session, settings: CloudSettings
) -> None:
    provision.provision_site(db, settings=settings, site_id=SITE, name="F", projects=["一期"])
    db.flush()
    link, key = link_of(db, settings)
    first = feed.batch_after(db, settings=settings, link=link, site_key=key, cursor=0,
                             limit=500)
    assert not first.resync and first.generation == link.feed_generation
    head = first.next_cursor
    beyond = feed.batch_after(db, settings=settings, link=link, site_key=key,
                              cursor=head + 1000, limit=500, generation=first.generation)
    assert beyond.resync and link.down_cursor_acked <= head  # never stored
    assert [i.kind for i in beyond.items].count("project") == 1  # the snapshot itself
    old = first.generation
    assert feed.new_generation(db, actor="test") == 1  # after a restore from a backup
    other = feed.batch_after(db, settings=settings, link=link, site_key=key, cursor=head,
                             limit=500, generation=old)
    assert other.resync and other.generation != old


def test_a_customer_item_is_appended_under_its_sites_lock(
    world: dict[str, Any], engine: Engine, db: Session, settings: CloudSettings
) -> None:
    """Offsets come from one sequence: an append made outside the site's lock could
    commit after a later offset that an appliance had already read past, and be skipped
    for good. A consultant's change (follow-up, transfer) appends outside the sync
    consumer, so it must wait for the site's lock like the consumer's own appends."""
    customer = db.get(Customer, world["site-a"].customer_id)
    assert customer is not None
    with engine.connect() as other:
        other.execute(text("SELECT 1 FROM site_link WHERE site_id = 'site-a' FOR UPDATE"))
        db.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            feed.announce_customer(db, settings, customer)
        db.rollback()
        other.rollback()
    feed.announce_customer(db, settings, customer)  # the lock released: it goes through
    db.commit()


def test_the_feed_tables_migration_matches_the_model(engine: Engine) -> None:
    assert drift(engine, ["down_feed"]) == []
