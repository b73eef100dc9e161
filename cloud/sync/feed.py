"""The down-stream change feed: append, read after a cursor, roster refresh, prune, resync.

Items are appended in the same transaction as the change they describe, so the feed
never announces what was rolled back. Roster and project items are derived: on each
request the cloud compares the current roster with the latest item per key and appends
only the differences, so identity code never has to know about appliances.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.bulk import insert_rows
from cloud.catalog.models import Project
from cloud.identity.models import User, UserRole, UserScope
from cloud.registry import Registry
from cloud.sales.customer_feed import customer_feed_item, erased_feed_item
from cloud.sales.models import Customer, is_erased
from cloud.sales.service import PHONE_CONTEXT, decrypt_name
from cloud.settings import CloudSettings
from cloud.sync.keys import site_key
from cloud.sync.models import DownFeed, SiteLink
from shared.edge_token import EDGE_TOKEN_LIFETIME
from shared.envelope import MAX_MESSAGE_BYTES, DownBatch, DownItem, canonical_json
from shared.roster import ROSTER_ROLES
from shared.timeutil import utcnow

# A batch is cut by size too: the request's `limit` counts items, and 500 customer items
# are more than a message may carry (the edge and the broker refuse it, and the edge
# would ask for the same batch for ever). The items of one batch stay under this, which
# leaves room for the message's own fields and signature.
BATCH_BYTES = MAX_MESSAGE_BYTES - 16 * 1024

# What a domain states to a site, as key → data; compared with the feed's latest items.
Current = Callable[[Session, CloudSettings, SiteLink], dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class DerivedKind:
    """A kind a domain derives like the roster: on each request its current items are
    compared with the feed's latest per key and the differences appended (something gone
    is re-sent with `"active": false`); a snapshot states them all. A kind whose domain
    appends its items when they change (`on_request=False`) is only stated by snapshots:
    nothing is compared on requests."""

    name: str
    current: Current
    on_request: bool = True


_DERIVED: Registry[DerivedKind] = Registry("down-feed kind", "cloud.events")
register_kind = _DERIVED.register


def derived_kinds() -> dict[str, DerivedKind]:
    return _DERIVED.all()


def append(
    session: Session, site_id: str, kind: str, key: str, data: dict[str, Any]
) -> DownFeed:
    item = DownFeed(site_id=site_id, kind=kind, key=key, data=data)
    session.add(item)
    return item


def append_many(
    session: Session, site_id: str, kind: str, items: Iterable[tuple[str, dict[str, Any]]]
) -> None:
    """Append items in one INSERT (a sync run announces every customer it touched)."""
    now = utcnow()
    rows = [{"site_id": site_id, "kind": kind, "key": key, "data": data, "created_at": now}
            for key, data in items]
    insert_rows(session, DownFeed, rows)


def _locked_link(session: Session, project_id: int) -> SiteLink | None:
    """The project's site link, locked to the end of the transaction: a site's offsets
    come from one sequence shared by all, so only appends made under the site's lock
    commit in offset order (an item committed after a later offset was read would be
    skipped by the appliance for good)."""
    project = session.get(Project, project_id)
    if project is None:
        return None
    return session.get(SiteLink, project.site_id, with_for_update=True)


def announce_customer(session: Session, settings: CloudSettings, customer: Customer) -> None:
    """Append the customer's current state to its site's feed (nothing for a site that has
    no appliance linked)."""
    link = _locked_link(session, customer.project_id)
    if link is None:
        return
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    key, data = customer_feed_item(
        customer, phone=settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT),
        site_key=site_key(settings, link), owner_name=owner.display_name if owner else None,
        name=decrypt_name(settings, customer))
    append(session, link.site_id, "customer", key, data)


def announce_erasure(session: Session, settings: CloudSettings, customer: Customer) -> None:
    """Tell the customer's site to erase its copies (call before the phone is blanked).

    The customer's earlier items in the feed (masked phone and name, owner) are deleted:
    an appliance that has not read them yet needs only the erasure, and the feed should
    not keep what the customer asked to have deleted until the feed's retention ends.
    """
    link = _locked_link(session, customer.project_id)
    if link is None:
        return
    key, data = erased_feed_item(
        customer.project_id,
        phone=settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT),
        site_key=site_key(settings, link))
    session.execute(delete(DownFeed).where(
        col(DownFeed.site_id) == link.site_id, col(DownFeed.kind) == "customer",
        col(DownFeed.key) == key))
    append(session, link.site_id, "customer", key, data)


def _latest_items(session: Session, site_id: str, kind: str) -> dict[str, dict[str, Any]]:
    newest = (
        select(DownFeed.key, func.max(DownFeed.offset).label("off"))
        .where(DownFeed.site_id == site_id, DownFeed.kind == kind)
        .group_by(col(DownFeed.key))
        .subquery()
    )
    rows = session.exec(
        select(DownFeed).join(newest, col(DownFeed.offset) == newest.c.off)
    ).all()
    return {row.key: row.data for row in rows}


def current_roster(session: Session, site_id: str) -> dict[str, dict[str, Any]]:
    """The site's roster: each member with their roster roles, by which the appliance
    keeps a sales director off the rota and its picks (shared.roster)."""
    rows = session.exec(
        select(User, UserRole.role)
        .join(UserRole, col(UserRole.user_id) == User.id)
        .join(UserScope, col(UserScope.user_id) == User.id)
        .where(UserScope.site_id == site_id, col(UserRole.role).in_(ROSTER_ROLES))
    ).all()
    roster: dict[str, dict[str, Any]] = {}
    for user, role in rows:
        entry = roster.setdefault(
            str(user.id),
            {"id": user.id, "name": user.display_name, "active": user.is_active, "roles": []},
        )
        entry["roles"] = sorted({*entry["roles"], role})
    return roster


def current_projects(session: Session, site_id: str) -> dict[str, dict[str, Any]]:
    projects = session.exec(select(Project).where(Project.site_id == site_id)).all()
    return {str(p.id): {"id": p.id, "name": p.name, "city": p.city} for p in projects}


def refresh_derived(session: Session, site_id: str, *, settings: CloudSettings | None = None,
                    link: SiteLink | None = None) -> int:
    """Append roster and project changes since the last items — and, given the settings
    and the link, the domains' derived kinds; returns how many."""
    appended = 0
    kinds = [("project", current_projects(session, site_id)),
             ("consultant", current_roster(session, site_id))]
    if settings is not None and link is not None:
        kinds += [(k.name, k.current(session, settings, link))
                  for k in derived_kinds().values() if k.on_request]
    for kind, current in kinds:
        known = _latest_items(session, site_id, kind)
        for key, data in current.items():
            if known.get(key) != data:
                append(session, site_id, kind, key, data)
                appended += 1
        for key, data in known.items():
            if key not in current and data.get("active", True):
                # Removed from the site: tell the edge, keep the name for old visits.
                append(session, site_id, kind, key, {**data, "active": False})
                appended += 1
    if appended:
        session.flush()
    return appended


def append_snapshot(
    session: Session, settings: CloudSettings, link: SiteLink, site_key: bytes
) -> int:
    """Re-state the whole site at new offsets; returns the offset just before them."""
    site_id = link.site_id
    items = [append(session, site_id, "project", k, d)
             for k, d in current_projects(session, site_id).items()]
    items += [append(session, site_id, "consultant", k, d)
              for k, d in current_roster(session, site_id).items()]
    for derived in derived_kinds().values():
        items += [append(session, site_id, derived.name, k, d)
                  for k, d in derived.current(session, settings, link).items()]
    project_ids = [int(k) for k in current_projects(session, site_id)]
    owners = {u.id: u.display_name for u in session.exec(select(User)).all()}
    customers = session.exec(select(Customer).where(col(Customer.project_id).in_(project_ids)))
    erased = 0
    for customer in customers:
        if is_erased(customer.phone_bidx):
            erased += 1  # nobody to state: its number is gone (the erasures follow)
            continue
        phone = settings.cipher.decrypt(customer.phone_enc, context=PHONE_CONTEXT)
        key, data = customer_feed_item(
            customer, phone=phone, site_key=site_key, owner_name=owners.get(customer.owner_id),
            name=decrypt_name(settings, customer),
        )
        items.append(append(session, site_id, "customer", key, data))
    # Revocations an edge token issued before the snapshot could still be subject to.
    since = utcnow() - EDGE_TOKEN_LIFETIME - timedelta(hours=1)
    revocations = session.exec(select(DownFeed).where(
        DownFeed.site_id == site_id, DownFeed.kind == "revocation",
        col(DownFeed.created_at) >= since).order_by(col(DownFeed.offset))).all()
    latest = {r.key: r.data for r in revocations}  # one per key, however many snapshots
    items += [append(session, site_id, "revocation", k, d) for k, d in latest.items()]
    if erased:
        # Erasures still in the feed are stated again: an appliance that resyncs before
        # it read one must still erase what it holds of that customer.
        gone = session.exec(select(DownFeed).where(
            DownFeed.site_id == site_id, DownFeed.kind == "customer",
            DownFeed.data["erased"].as_boolean().is_(True),
        ).order_by(col(DownFeed.offset))).all()
        items += [append(session, site_id, "customer", k, d)
                  for k, d in {g.key: g.data for g in gone}.items()]
    session.flush()
    if not items:  # nothing to state: resume after the pruned range
        return link.feed_floor
    return min(item.offset or 0 for item in items) - 1


def batch_after(
    session: Session, *, settings: CloudSettings, link: SiteLink, site_key: bytes,
    cursor: int, limit: int, generation: str | None = None,
) -> DownBatch:
    """Items after `cursor`. A cursor this feed cannot continue from gets a resync: one
    below what it still keeps, one beyond its head (the database went back), or one of
    another generation (a restore started a new one). Such a cursor is never stored."""
    head = session.exec(select(func.max(DownFeed.offset)).where(
        DownFeed.site_id == link.site_id)).one() or 0
    foreign = generation is not None and generation != link.feed_generation
    resync = cursor < link.feed_floor or cursor > head or foreign
    if not resync:
        link.down_cursor_acked = max(link.down_cursor_acked, cursor)
    if resync:
        # One snapshot serves every resync until a prune reaches into it, so lost or
        # replayed requests cannot pile snapshots up.
        if link.snapshot_from < link.feed_floor or link.snapshot_from > head:
            link.snapshot_from = append_snapshot(session, settings, link, site_key)
        start = link.snapshot_from
    else:
        refresh_derived(session, link.site_id, settings=settings, link=link)
        start = cursor
    rows = session.exec(
        select(DownFeed)
        .where(DownFeed.site_id == link.site_id, col(DownFeed.offset) > start)
        .order_by(col(DownFeed.offset))
        .limit(limit + 1)
    ).all()
    items: list[DownItem] = []
    size = 0
    for row in rows[:limit]:
        item = DownItem.model_validate(
            {"offset": row.offset, "kind": row.kind, "key": row.key, "data": row.data})
        size += len(canonical_json(item.model_dump(mode="json"))) + 1
        if items and size > BATCH_BYTES:
            break  # the rest in the next batch: a message must fit the protocol's limit
        items.append(item)
    next_cursor = items[-1].offset if items else start
    return DownBatch(site_id=link.site_id, generation=link.feed_generation, cursor=cursor,
                     next_cursor=next_cursor, resync=resync,
                     more=len(rows) > len(items), items=items)


def new_generation(session: Session, *, actor: str) -> int:
    """Start a new generation of every site's feed: after the database was restored from a
    backup, offsets the appliances already passed may be handed out again, so every
    appliance resyncs instead of trusting its cursor. Returns how many sites."""
    links = session.exec(select(SiteLink)).all()
    for link in links:
        link.feed_generation = uuid.uuid4().hex
        session.add(link)
    audit_service.record(session, action="sync.feed_generation", actor=actor,
                         object_type="site", object_id="*", detail={"sites": len(links)})
    return len(links)


def prune(session: Session, *, retention_days: int) -> int:
    """Drop items older than the retention; edges whose cursor falls below resync."""
    cutoff = utcnow() - timedelta(days=retention_days)
    floors = session.exec(
        select(DownFeed.site_id, func.max(DownFeed.offset))
        .where(col(DownFeed.created_at) < cutoff)
        .group_by(col(DownFeed.site_id))
    ).all()
    removed = 0
    for site_id, floor in floors:
        if floor is None:
            continue
        link = session.get(SiteLink, site_id)
        if link is not None:
            link.feed_floor = max(link.feed_floor, int(floor))
        result = session.execute(
            delete(DownFeed).where(
                col(DownFeed.site_id) == site_id, col(DownFeed.offset) <= floor
            )
        )
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed
