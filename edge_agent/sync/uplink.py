"""Up-stream: send outbox events in seq order and release them on the cloud's Ack only.

State (in memory, rebuilt from the database at start):
- last_acked: the highest cloud ack stored in sync_state; rows ≤ it are acked (kept for
  the retention window, then pruned).
- next_to_send: the send pointer. Sending stops at last_acked + sync_window.
- waiting_since: when we started waiting for ack progress on events in flight.
- epoch: this store's identity; `refused` when the cloud holds another epoch for the site
  or refuses this agent as a second instance — then nothing is sent but the status.

Rewinds of the send pointer (each counted in anchang_edge_resends_total):
- reconnect: everything unacked, from last_acked + 1, in order;
- resend_from in an Ack (a hole at the cloud): honoured once per ack_timeout per value;
- ack timeout: no progress for ack_timeout while events are in flight. The connection
  itself is suspect (a broker or middlebox that swallowed PUBLISH frames leaves paho's
  in-flight window full for good, and resends on it only queue up behind), so the link
  is rebuilt and everything unacked goes again on the new connection — never more than
  one copy per event per connection. A second timeout in a row marks the link `stalled`
  (status, health, console) until an ack moves again;
- the cloud, in a fresh answer to our status, stands below our stored ack (restored from
  an older backup): the retained rows above its position are sent again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from edge_agent.crash import crash_point
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.sync.metrics import SyncMetrics
from edge_agent.sync.mqtt import MqttLink
from edge_agent.sync.up_batches import pack
from shared.aio import wait_event
from shared.envelope import Ack, Envelope, LinkState
from shared.timeutil import utcnow

log = structlog.get_logger()

SEND_CHUNK = 200  # rows read and handed to paho per step
MAX_TICK_SECONDS = 1.0  # the pump checks timers at least this often
ERROR_BACKOFF_INITIAL_SECONDS = 0.5
ERROR_BACKOFF_MAX_SECONDS = 30.0
METRICS_REFRESH_SECONDS = 1.0
STALLED_AFTER_TIMEOUTS = 2  # a reconnect did not help either
# After a connect, events wait this long at most for a fresh clock sample to reach the
# cloud first (one round trip, normally milliseconds): with it, the cloud corrects the
# times of events recorded under a wrong clock.
CLOCK_WAIT_SECONDS = 3.0
PRUNE_EVERY_SECONDS = 3600.0
# Refusals the cloud answers for this store or this agent, not for one event.
_REFUSALS: dict[str, LinkState] = {"epoch_mismatch": "epoch_refused",
                                   "instance_conflict": "instance_refused"}


@dataclass
class PendingAck:
    """Acks received since the last step, merged: the highest ack wins."""

    acked_seq: int = -1
    resend_from: int | None = None
    rewind_to: int | None = None  # a fresh answer placing the cloud below our stored ack
    rejections: list[outbox.Rejection] = field(default_factory=list)


class UpStream:
    def __init__(
        self, settings: EdgeSettings, store: Store, link: MqttLink, metrics: SyncMetrics,
        *, instance: uuid.UUID, reconnect: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        self.settings = settings
        self.instance = instance
        self.store = store
        self.link = link
        self.metrics = metrics
        self._reconnect = reconnect
        self.epoch = uuid.UUID(int=0)
        self.last_acked = 0
        self.next_to_send = 1
        self.highest_sent = 0
        self.refused: LinkState | None = None
        self.stalled = False
        self._timeouts = 0
        self._waiting_since: float | None = None
        self._pending = PendingAck()
        self._honoured: dict[int, float] = {}
        self._resend_request: int | None = None
        self._wake = asyncio.Event()
        self._metrics_at = 0.0
        self._pruned_at = 0.0
        self._reconnecting: asyncio.Task[None] | None = None
        self._hold_until = 0.0  # after a connect: until the clock sample went first
        # Events per `up` message on this connection: 1 until the cloud's Ack offers more
        # (ADR 0036); back to 1 for the connection if it refuses a batch whole.
        self.batch_max = 1
        self._batch_refused = False
        self._batched = False  # a batch went on this connection
        # Bumped by every reconnect: a send in progress must not undo its rewind.
        self._generation = 0
        self._tick = min(MAX_TICK_SECONDS, settings.ack_timeout_seconds / 4)

    async def load(self) -> None:
        state = await self.store.read(outbox.get_state)
        if state.epoch is None:
            raise RuntimeError("sync_state.epoch missing: the store was not migrated")
        self.epoch = state.epoch
        self.last_acked = self.highest_sent = state.last_acked_seq
        self.next_to_send = state.last_acked_seq + 1

    def wake(self) -> None:
        self._wake.set()

    def reconnecting(self) -> asyncio.Task[None] | None:
        """The reconnect an ack timeout started, while it runs (the agent's stop cancels
        it: a reconnect that outlived the stop would start a new client)."""
        task = self._reconnecting
        return task if task is not None and not task.done() else None

    @property
    def link_state(self) -> LinkState:
        if self.refused is not None:
            return self.refused
        return "stalled" if self.stalled else "ok"

    # ----- events from the link (event loop) -----

    def on_connected(self) -> None:
        unacked = self.highest_sent - self.last_acked
        if unacked > 0:
            self.metrics.resends.labels("reconnect").inc(unacked)
        self.next_to_send = self.last_acked + 1
        self._waiting_since = None
        self._generation += 1
        self._hold_until = time.monotonic() + CLOCK_WAIT_SECONDS
        self.batch_max, self._batch_refused, self._batched = 1, False, False
        self.wake()

    def clock_reported(self) -> None:
        """A status carrying a clock sample of this connection is on its way: send."""
        self._hold_until = 0.0
        self.wake()

    def on_disconnected(self) -> None:
        self._waiting_since = None
        self.batch_max = 1

    def on_ack(self, ack: Ack, *, fresh: bool, batch_offer: int | None = None) -> None:
        """A verified Ack: merge it; the pump applies it (releases run in a transaction).
        `fresh`: it answers this agent's latest status, so its position is current.
        `batch_offer`: the events per `up` message the cloud takes (None: one)."""
        self.metrics.acks.inc()
        if not self._batch_refused:
            self.batch_max = batch_offer or 1
        if self._batched and any(r.seq is None and r.reason not in _REFUSALS
                                 for r in ack.rejected):
            # A message refused whole (seq null): if it was a batch, its events wait
            # unconsumed. The rest of this connection sends one event a message, from the
            # oldest unacked — a duplicate costs nothing, a stall would.
            log.warning("up_batch_refused_sending_singly")
            self._batch_refused, self.batch_max, self._batched = True, 1, False
            self.next_to_send = min(self.next_to_send, self.last_acked + 1)
        if ack.epoch != self.epoch:
            # The cloud speaks of another store of this site: nothing here is released by
            # it. Until an operator re-enrols the site, this store only reports its status.
            if ack.epoch is not None:
                self._refuse("epoch_refused", str(ack.epoch))
            return
        if self.refused == "epoch_refused":
            self._clear_refusal()
        pending = self._pending
        if ack.acked_seq > pending.acked_seq:
            pending.acked_seq, pending.resend_from = ack.acked_seq, ack.resend_from
        elif ack.acked_seq == pending.acked_seq and ack.resend_from is not None:
            pending.resend_from = ack.resend_from
        if fresh and ack.acked_seq < self.last_acked:
            pending.rewind_to = ack.acked_seq
        refusals = {r.reason for r in ack.rejected if r.reason in _REFUSALS}
        if "instance_conflict" in refusals:
            self._refuse("instance_refused", "another agent runs with this site's credentials")
        elif fresh and self.refused == "instance_refused":
            self._clear_refusal()  # the cloud answered our status without refusing us
        for item in ack.rejected:
            # A refusal that did not consume its seq (a forged or garbled copy, or one the
            # cloud will not take from this store or agent) leaves our event queued: only
            # the cloud's ack may release it, so nothing is set aside.
            if item.consumed and item.seq is not None:
                pending.rejections.append(outbox.Rejection(item.seq, item.reason))
            if item.reason not in _REFUSALS:
                log.error("event_rejected_by_cloud", rejection=item.model_dump())
                self.metrics.cloud_rejected.inc()
        self.wake()

    def _refuse(self, state: LinkState, why: str) -> None:
        if self.refused != state:
            log.error("uplink_refused_by_cloud", state=state, why=why, epoch=str(self.epoch))
        self.refused = state
        self._waiting_since = None

    def _clear_refusal(self) -> None:
        log.info("uplink_accepted_by_cloud", was=self.refused, epoch=str(self.epoch))
        self.refused = None
        self.next_to_send = self.last_acked + 1
        self.wake()

    # ----- the pump -----

    async def run(self) -> None:
        backoff = ERROR_BACKOFF_INITIAL_SECONDS
        while True:
            await wait_event(self._wake, self._tick)
            self._wake.clear()
            try:
                await self.step()
                backoff = ERROR_BACKOFF_INITIAL_SECONDS
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("uplink_step_failed", retry_in=backoff)
                self.metrics.errors.labels("uplink").inc()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, ERROR_BACKOFF_MAX_SECONDS)

    async def step(self) -> None:
        await self._apply_acks()
        self._apply_resend_request()
        self._check_ack_timeout()
        if self.link.connected and self.refused is None and \
                time.monotonic() >= self._hold_until:
            await self._send_window()
        await self._prune()
        await self._refresh_metrics()

    async def _apply_acks(self) -> None:
        pending, self._pending = self._pending, PendingAck()
        if pending.rewind_to is not None and pending.rewind_to < self.last_acked:
            await self._rewind(pending.rewind_to)
            return
        progress = pending.acked_seq > self.last_acked
        if pending.resend_from is not None and pending.acked_seq >= self.last_acked:
            self._resend_request = pending.resend_from
        if not progress and not pending.rejections:
            return
        acked = max(pending.acked_seq, self.last_acked)
        crash_point("after_ack_before_release")
        released = await self.store.write(
            outbox.release, acked, now=utcnow(), rejections=pending.rejections,
        )
        if released is None:
            await self._store_restored(acked)
            return
        self.metrics.released.inc(released)
        if progress:
            self._timeouts = 0
            if self.stalled:
                log.info("uplink_moving_again", acked_seq=acked)
            self.stalled = False
        self.last_acked = acked
        self.next_to_send = max(self.next_to_send, acked + 1)
        self.highest_sent = max(self.highest_sent, acked)
        self._waiting_since = time.monotonic() if self.highest_sent > acked else None

    async def _store_restored(self, acked: int) -> None:
        """The cloud acked seqs this store never wrote: it is an older copy of the store
        the cloud knows (restored from a backup, or a replaced card with an old image).
        Reusing those seqs would have new events dropped as duplicates, so it takes a new
        epoch, which the cloud refuses until an operator re-enrols the site."""
        epoch = await self.store.write(outbox.new_epoch)
        log.error("store_restored_new_epoch", acked_seq=acked, head=self.next_to_send - 1,
                  old_epoch=str(self.epoch), new_epoch=str(epoch))
        self.metrics.rejected_messages.labels("ack_beyond_head").inc()
        self.epoch = epoch
        self._refuse("epoch_refused", "store restored: a new epoch awaits re-enrolment")

    async def _rewind(self, position: int) -> None:
        rewound = await self.store.write(outbox.rewind, position)
        log.error("cloud_behind_resending", cloud_position=position, our_ack=self.last_acked,
                  resent=rewound.waiting_again, missing=rewound.missing)
        self.metrics.resends.labels("cloud_behind").inc(rewound.waiting_again)
        if rewound.missing:
            # Pruned before the cloud came back: those seqs can never be filled from here.
            self.metrics.errors.labels("cloud_behind_unrecoverable").inc(rewound.missing)
        self.last_acked = self.highest_sent = position
        self.next_to_send = position + 1
        self._waiting_since = None
        self.wake()

    def _apply_resend_request(self) -> None:
        wanted, self._resend_request = self._resend_request, None
        if wanted is None or wanted <= self.last_acked:
            return  # healed meanwhile
        now = time.monotonic()
        timeout = self.settings.ack_timeout_seconds
        self._honoured = {k: t for k, t in self._honoured.items() if now - t < timeout}
        if wanted in self._honoured:
            return  # asked again within ack_timeout: no resend storm
        self._honoured[wanted] = now
        if wanted < self.next_to_send:
            self.metrics.resends.labels("resend_from").inc(self.next_to_send - wanted)
            log.info("resend_requested", resend_from=wanted, send_pointer=self.next_to_send)
            self.next_to_send = wanted
            self._waiting_since = now

    def _check_ack_timeout(self) -> None:
        if self._waiting_since is None or self.highest_sent <= self.last_acked:
            return
        now = time.monotonic()
        if now - self._waiting_since < self.settings.ack_timeout_seconds:
            return
        self._timeouts += 1
        if self._timeouts >= STALLED_AFTER_TIMEOUTS and not self.stalled:
            self.stalled = True
            log.error("uplink_stalled", last_acked=self.last_acked,
                      highest_sent=self.highest_sent, timeouts=self._timeouts)
            self.metrics.errors.labels("uplink_stalled").inc()
        log.warning("ack_timeout_reconnecting", last_acked=self.last_acked,
                    highest_sent=self.highest_sent, timeouts=self._timeouts)
        self.metrics.resends.labels("ack_timeout").inc(
            max(self.highest_sent - self.last_acked, 0))
        self._waiting_since = now
        # Nothing more goes on this connection; the new one resends from last_acked + 1.
        self.next_to_send = self.highest_sent + 1
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect(), name="uplink-reconnect")

    async def _send_window(self) -> None:
        limit = self.last_acked + self.settings.sync_window
        while self.link.connected and self.refused is None and self.next_to_send <= limit:
            rows = await self.store.read(outbox.rows_between, self.next_to_send, limit, SEND_CHUNK)
            if not rows:
                return
            sent_at = utcnow()
            key = self.settings.site_key_bytes
            wires = [Envelope(
                site_id=self.settings.site_id,
                epoch=self.epoch,
                instance=self.instance,
                seq=row.seq,
                event_id=row.event_id,
                type=row.type,
                occurred_at=row.occurred_at,
                sent_at=sent_at,
                payload=outbox.open_payload(self.settings.cipher, row),
            ).signed_wire(key) for row in rows]
            batched = self.batch_max > 1
            messages, counts = pack(wires, topic=self.link.topics.up,
                                    site_id=self.settings.site_id, batch_max=self.batch_max)
            generation = self._generation
            queued = await self.link.publish(messages)
            if generation != self._generation:
                return  # reconnected meanwhile: everything unacked goes again from the rewind
            if queued:
                crash_point("after_publish")
                events = sum(counts[:queued])
                self.metrics.published.inc(events)
                self._batched = self._batched or batched
                last = rows[events - 1].seq
                self.highest_sent = max(self.highest_sent, last)
                self.next_to_send = last + 1
                if self._waiting_since is None:
                    self._waiting_since = time.monotonic()
            if queued < len(messages):
                return  # the link dropped: on reconnect everything unacked goes again

    async def _prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        before = utcnow() - timedelta(days=self.settings.outbox_retention_days)
        pruned = await self.store.write(outbox.prune_acked, before)
        if pruned:
            log.info("outbox_pruned", rows=pruned, acked_before=before.isoformat())

    async def _refresh_metrics(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._metrics_at < METRICS_REFRESH_SECONDS:
            return
        self._metrics_at = now
        backlog = await self.store.read(outbox.backlog)
        self.metrics.backlog.set(backlog.count)
        oldest = backlog.oldest_created_at
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        self.metrics.oldest_unacked_age.set(max(age, 0.0))
        self.metrics.stalled.set(1 if self.link_state != "ok" else 0)

