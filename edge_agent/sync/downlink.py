"""Down-feed: the cloud's change feed (projects, consultants, customers, the edge-token
revocation list, and the channel's QR keys, rule versions and live referrals) into local
tables.

A batch is applied only when it continues our cursor (batch.cursor == stored cursor) or
is a resync snapshot; its items and the new cursor commit in one transaction, so a crash
leaves either nothing or both (and upserts are keyed, so a replay changes nothing).
The cursor sent in a DownRequest is the ack of everything before it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete, update
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

# Imported for the down-feed kinds their domains register (site.faces, face.erase;
# reception.settings).
import edge_agent.faces.feed
import edge_agent.rota.feed  # noqa: F401
from edge_agent.crash import crash_point
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.base import EdgeModel
from edge_agent.store.models.customers import (
    ERASED_MASK,
    ERASED_PREFIX,
    CustomerCache,
    FollowUp,
    IncomingCall,
)
from edge_agent.store.models.guided import ChannelRules, QrKey, ReferralCache
from edge_agent.store.models.reception import Visit
from edge_agent.store.models.site import Consultant, Project, TokenRevocation
from edge_agent.store.models.sync import SyncState
from edge_agent.sync.down_kinds import HANDLERS, DownContext
from edge_agent.sync.metrics import SyncMetrics
from edge_agent.sync.mqtt import MqttLink
from shared.crypto import FieldCipher
from shared.edge_token import EDGE_TOKEN_LIFETIME
from shared.envelope import DownBatch, DownItem, DownRequest
from shared.timeutil import utcnow

log = structlog.get_logger()

DOWN_REQUEST_LIMIT = 500
REVOCATION_MARGIN = timedelta(hours=1)  # beyond a token's lifetime: clock differences
ERROR_BACKOFF_SECONDS = 2.0


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer clouds may add fields


class ProjectItem(_Item):
    id: int = Field(ge=1)
    name: str = Field(max_length=100)
    city: str | None = Field(None, max_length=50)
    active: bool = True  # false: the project left this site; keep it for old visits


class ConsultantItem(_Item):
    id: int = Field(ge=1)
    name: str = Field(max_length=50)
    active: bool = True
    roles: list[str] = Field(default_factory=list)


class CustomerItem(_Item):
    project_id: int = Field(ge=1)
    phone_bidx: str = Field(pattern=r"^[0-9a-f]{64}$")
    phone_masked: str | None = Field(None, max_length=11)
    owner_id: int | None = None
    owner_name: str | None = Field(None, max_length=50)
    visit_count: int = Field(0, ge=0)
    first_visit_at: datetime | None = None
    last_visit_at: datetime | None = None
    protection_until: datetime | None = None
    last_effective_at: datetime | None = None
    name_masked: str | None = Field(None, max_length=20)
    customer_ref: str | None = Field(None, max_length=64)
    # Customer 360 (schema v14): sales stage, ownership state, the deal's payment method.
    status: str | None = Field(None, max_length=20)
    ownership: str | None = Field(None, max_length=10)
    payment_method: str | None = Field(None, max_length=20)
    # The customer was erased at the cloud on their request: drop the row and anonymise
    # what this appliance holds of them (never stored as a column).
    erased: bool = False


class RevocationItem(_Item):
    user_id: int = Field(ge=1)
    session_id: str | None = Field(None, max_length=64)
    reason: str = Field(max_length=32)
    revoked_at: datetime


class QrKeyItem(_Item):
    kid: str = Field(min_length=1, max_length=16)
    public_key: str = Field(min_length=43, max_length=44)
    active: bool = True


class ChannelRulesItem(_Item):
    project_id: int = Field(ge=1)
    version: int = Field(ge=1)
    effective_from: datetime
    rules: dict[str, Any]
    active: bool = True


class ReferralItem(_Item):
    id: int = Field(ge=1)
    project_id: int = Field(ge=1)
    broker_id: int = Field(ge=1)
    agency_id: int | None = None
    state: str = Field(max_length=16)
    reason_code: str = Field(max_length=40)
    phone_masked: str = Field(max_length=11)
    masked: bool = False
    phone_key: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    rule_version: int = Field(ge=0)
    created_at: datetime
    protection_until: datetime | None = None
    active: bool = True  # false: no longer live (decided otherwise, or its window ended)
    broker_name: str | None = Field(None, max_length=20)  # masked (张*明)
    broker_phone_masked: str | None = Field(None, max_length=11)
    agency_name: str | None = Field(None, max_length=100)


_KINDS: dict[str, tuple[type[_Item], type[EdgeModel], str]] = {
    "project": (ProjectItem, Project, "id"),
    "consultant": (ConsultantItem, Consultant, "id"),
    "customer": (CustomerItem, CustomerCache, "key"),
    "revocation": (RevocationItem, TokenRevocation, "key"),
    "qr_key": (QrKeyItem, QrKey, "kid"),
    "channel_rules": (ChannelRulesItem, ChannelRules, "key"),
    "referral": (ReferralItem, ReferralCache, "key"),
}
# Customer items with `erased` set, applied before the upserts of a batch.
ERASURE = "erasure"
# Keyed by the feed item's key rather than a field of its data.
_KEYED_KINDS = frozenset({"customer", "revocation", "channel_rules", "referral"})


def _expected_key(kind: str, item: _Item) -> str:
    if isinstance(item, CustomerItem):
        return f"{item.project_id}:{item.phone_bidx}"
    if isinstance(item, RevocationItem):
        return f"session:{item.session_id}" if item.session_id else f"user:{item.user_id}"
    if isinstance(item, QrKeyItem):
        return item.kid
    if isinstance(item, ChannelRulesItem):
        return f"{item.project_id}:{item.version}"
    assert isinstance(item, ProjectItem | ConsultantItem | ReferralItem)
    return str(item.id)


def parse_items(
    items: Sequence[DownItem], metrics: SyncMetrics | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """kind → key → column values; the last item per key wins; invalid items are skipped.
    Customer items marked erased are gathered under ERASURE instead."""
    rows: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in (*_KINDS, ERASURE)}
    for item in sorted(items, key=lambda i: i.offset):
        if item.kind in HANDLERS:
            continue  # its domain applies it (apply_handled)
        schema = _KINDS[item.kind][0]
        try:
            parsed = schema.model_validate(item.data)
            if item.key != _expected_key(item.kind, parsed):
                raise ValueError(f"key {item.key!r} does not match its data")
        except (ValidationError, ValueError) as exc:
            log.error("down_item_invalid", kind=item.kind, offset=item.offset, error=str(exc)[:300])
            if metrics is not None:
                metrics.down_items_invalid.labels(item.kind).inc()
            continue
        values = parsed.model_dump()
        if item.kind in _KEYED_KINDS:
            values["key"] = item.key
        if values.pop("erased", False):
            # Applied even when a later item of the key follows in this batch (the person
            # came back as a new customer): what came before the erasure must still go.
            rows[ERASURE][item.key] = values
            rows[item.kind].pop(item.key, None)
            continue
        rows[item.kind][item.key] = values
    return rows


async def erase_customer(
    session: AsyncSession, key: str, project_id: int, phone_bidx: str
) -> None:
    """A data-subject deletion carried out at the cloud, applied here: the cached row goes;
    the customer's visits, follow-ups and calls stay for the day's counts and the rota, with the
    phone, name and free text gone and the blind index replaced by a tombstone of its own
    (so nothing links them to each other or to the person any more)."""
    await session.exec(delete(CustomerCache).where(col(CustomerCache.key) == key))
    for model in (Visit, FollowUp, IncomingCall):
        ids = (await session.exec(select(model.id).where(
            col(model.project_id) == project_id, col(model.phone_bidx) == phone_bidx))).all()
        for row_id in ids:
            values: dict[str, Any] = {"phone_bidx": f"{ERASED_PREFIX}{uuid.uuid4().hex}",
                                      "phone_masked": ERASED_MASK}
            if model is Visit:
                values.update(phone_enc="", name_enc=None, intent_enc=None, profile=None,
                              phone_region=None)
            elif model is IncomingCall:
                values.update(phone_enc="", name_enc=None)
            else:
                values.update(note_enc=None)
            await session.exec(update(model).where(col(model.id) == row_id).values(**values))


async def apply_handled(session: AsyncSession, items: Sequence[DownItem], now: datetime,
                        cipher: FieldCipher, metrics: SyncMetrics | None = None) -> int:
    """The items of the kinds a domain applies itself, in feed order; how many were
    applied (their domain may have answered with outbox events)."""
    applied = 0
    for item in sorted(items, key=lambda i: i.offset):
        handler = HANDLERS.get(item.kind)
        if handler is None:
            continue
        try:
            async with session.begin_nested():  # an invalid item leaves nothing behind
                await handler(session, item.data, DownContext(now, cipher, item.key))
        except (ValidationError, ValueError) as exc:
            log.error("down_item_invalid", kind=item.kind, offset=item.offset,
                      error=str(exc)[:300])
            if metrics is not None:
                metrics.down_items_invalid.labels(item.kind).inc()
            continue
        applied += 1
        if metrics is not None:
            metrics.down_items.labels(item.kind).inc()
    return applied


async def apply_batch(
    session: AsyncSession, batch: DownBatch, now: datetime, metrics: SyncMetrics | None = None,
    cipher: FieldCipher | None = None,
) -> bool:
    """Upsert the batch's items and store its next_cursor (the caller's transaction);
    `cipher` for the kinds whose domain answers with events (faces). True when such an
    item was applied, so the caller wakes the uplink only then."""
    if batch.resync:
        # Not the used QR nonces: a code used here stays used whatever the cloud restates.
        for table in (CustomerCache, Consultant, Project, QrKey, ChannelRules, ReferralCache):
            await session.exec(delete(table))
    parsed = parse_items(batch.items, metrics)
    erasures = parsed.pop(ERASURE)
    for erased in erasures.values():
        await erase_customer(session, erased["key"], erased["project_id"], erased["phone_bidx"])
    if erasures and metrics is not None:
        metrics.down_items.labels(ERASURE).inc(len(erasures))
    handled = 0 if cipher is None else await apply_handled(session, batch.items, now, cipher,
                                                            metrics)
    for kind, by_key in parsed.items():
        if not by_key:
            continue
        model, pk = _KINDS[kind][1], _KINDS[kind][2]
        values = [{**v, "updated_at": now} for v in by_key.values()]
        stmt = insert(model).values(values)
        columns = {c: stmt.excluded[c] for c in values[0] if c != pk}
        await session.exec(stmt.on_conflict_do_update(index_elements=[pk], set_=columns))
        if metrics is not None:
            metrics.down_items.labels(kind).inc(len(values))
    # A revocation matters while a token it ends can still be valid.
    await session.exec(delete(TokenRevocation).where(
        col(TokenRevocation.revoked_at) < now - EDGE_TOKEN_LIFETIME - REVOCATION_MARGIN))
    await session.exec(
        update(SyncState)
        .where(col(SyncState.id) == 1)
        .values(down_cursor=batch.next_cursor, down_generation=batch.generation,
                down_synced_at=now)
    )
    return handled > 0


class DownFeed:
    def __init__(
        self, settings: EdgeSettings, store: Store, link: MqttLink, metrics: SyncMetrics
    ) -> None:
        self.settings = settings
        self.store = store
        self.link = link
        self.metrics = metrics
        self.cursor = 0
        self.generation: str | None = None  # of the feed our cursor belongs to
        self._batches: asyncio.Queue[DownBatch] = asyncio.Queue()
        self._poll_now = asyncio.Event()

    async def load(self) -> None:
        state = await self.store.read(outbox.get_state)
        self.cursor, self.generation = state.down_cursor, state.down_generation

    def on_connected(self) -> None:
        self._poll_now.set()

    def on_batch(self, batch: DownBatch) -> None:
        self._batches.put_nowait(batch)

    async def request(self) -> None:
        if not self.link.connected:
            return
        message = DownRequest(
            site_id=self.settings.site_id,
            cursor=self.cursor,
            generation=self.generation,
            limit=DOWN_REQUEST_LIMIT,
            sent_at=utcnow(),
        ).signed(self.settings.site_key_bytes)
        await self.link.publish([(self.link.topics.down_request, message.to_wire(), False)])

    async def run(self) -> None:
        """Requests on connect, every down_poll_seconds and after a batch with more=True;
        batches applied one at a time, in arrival order."""
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while True:
            try:
                if self._poll_now.is_set() or loop.time() >= next_poll:
                    self._poll_now.clear()
                    next_poll = loop.time() + self.settings.down_poll_seconds
                    await self.request()
                batch = await self._next_batch(next_poll - loop.time())
                if batch is not None and await self.apply(batch) and batch.more:
                    self._poll_now.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("downlink_step_failed")
                self.metrics.errors.labels("downlink").inc()
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)

    async def _next_batch(self, wait_seconds: float) -> DownBatch | None:
        getter = asyncio.ensure_future(self._batches.get())
        poller = asyncio.ensure_future(self._poll_now.wait())
        try:
            await asyncio.wait({getter, poller}, timeout=max(wait_seconds, 0.0),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            poller.cancel()
            if not getter.done():
                getter.cancel()
        return getter.result() if getter.done() and not getter.cancelled() else None

    async def apply(self, batch: DownBatch) -> bool:
        other_feed = self.generation is not None and batch.generation != self.generation
        if not batch.resync and (batch.cursor != self.cursor or other_feed):
            # An answer to an older request, or of a feed our cursor is not from (the
            # cloud starts a new generation when its database is restored: it answers our
            # next request with a resync).
            self.metrics.down_batches_ignored.labels("stale").inc()
            log.info("down_batch_ignored", batch_cursor=batch.cursor, cursor=self.cursor,
                     generation=batch.generation)
            return False
        if await self.store.write(apply_batch, batch, utcnow(), self.metrics,
                                  self.settings.cipher):
            self.store.outbox_committed()  # a domain may have answered with events
        crash_point("after_down_apply_before_cursor")
        if batch.resync:
            log.warning("down_feed_resync", items=len(batch.items), cursor=batch.next_cursor)
        self.cursor, self.generation = batch.next_cursor, batch.generation
        self.metrics.down_batches_applied.inc()
        return True
