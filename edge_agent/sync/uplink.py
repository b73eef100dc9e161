"""Up-stream: send outbox events in seq order and release them on the cloud's Ack only.

State (in memory, rebuilt from the database at start):
- last_acked: the highest cloud ack stored in sync_state; rows ≤ it are gone.
- next_to_send: the send pointer. Sending stops at last_acked + sync_window.
- waiting_since: when we started waiting for ack progress on events in flight.

Rewinds of the send pointer (each counted in anchang_edge_resends_total):
- reconnect: everything unacked, from last_acked + 1, in order;
- resend_from in an Ack (a gap at the cloud): honoured once per ack_timeout per value;
- ack timeout: no progress for ack_timeout while events are in flight → from
  last_acked + 1, then the timer restarts, so at most one rewind per ack_timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from edge_agent.crash import crash_point
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.sync.metrics import SyncMetrics
from edge_agent.sync.mqtt import MqttLink, Outgoing
from shared.envelope import Ack, Envelope
from shared.timeutil import utcnow

log = structlog.get_logger()

SEND_CHUNK = 200  # rows read and handed to paho per step
MAX_TICK_SECONDS = 1.0  # the pump checks timers at least this often
ERROR_BACKOFF_INITIAL_SECONDS = 0.5
ERROR_BACKOFF_MAX_SECONDS = 30.0
SKEW_PERSIST_SECONDS = 30.0  # skew alone (no release) is written at most this often
METRICS_REFRESH_SECONDS = 1.0


@dataclass
class PendingAck:
    """Acks received since the last step, merged: the highest ack wins."""

    acked_seq: int = -1
    resend_from: int | None = None
    rejections: list[outbox.Rejection] = field(default_factory=list)


class UpStream:
    def __init__(
        self, settings: EdgeSettings, store: Store, link: MqttLink, metrics: SyncMetrics
    ) -> None:
        self.settings = settings
        self.store = store
        self.link = link
        self.metrics = metrics
        self.last_acked = 0
        self.next_to_send = 1
        self.highest_sent = 0
        self.clock_skew: float | None = None
        self._skew_persisted_at = 0.0
        self._waiting_since: float | None = None
        self._pending = PendingAck()
        self._honoured: dict[int, float] = {}
        self._resend_request: int | None = None
        self._wake = asyncio.Event()
        self._metrics_at = 0.0
        self._epoch = 0  # bumped by every reconnect: a send in progress must not undo its rewind
        self._tick = min(MAX_TICK_SECONDS, settings.ack_timeout_seconds / 4)

    async def load(self) -> None:
        state = await self.store.read(outbox.get_state)
        self.last_acked = self.highest_sent = state.last_acked_seq
        self.next_to_send = state.last_acked_seq + 1
        self.clock_skew = state.clock_skew_seconds

    def wake(self) -> None:
        self._wake.set()

    # ----- events from the link (event loop) -----

    def on_connected(self) -> None:
        unacked = self.highest_sent - self.last_acked
        if unacked > 0:
            self.metrics.resends.labels("reconnect").inc(unacked)
        self.next_to_send = self.last_acked + 1
        self._waiting_since = None
        self._epoch += 1
        self.wake()

    def on_disconnected(self) -> None:
        self._waiting_since = None

    def on_ack(self, ack: Ack, received_at: datetime) -> None:
        """A verified Ack: merge it; the pump applies it (releases run in a transaction)."""
        self.metrics.acks.inc()
        self.clock_skew = (received_at - ack.cloud_time).total_seconds()
        self.metrics.clock_skew.set(self.clock_skew)
        pending = self._pending
        if ack.acked_seq > pending.acked_seq:
            pending.acked_seq, pending.resend_from = ack.acked_seq, ack.resend_from
        elif ack.acked_seq == pending.acked_seq and ack.resend_from is not None:
            pending.resend_from = ack.resend_from
        for item in ack.rejected:
            seq = item.get("seq")
            # A refusal that did not consume its seq (a forged or garbled copy) leaves our
            # event queued: only the cloud's ack may release it, so nothing is set aside.
            if isinstance(seq, int) and seq >= 1 and item.get("consumed", True):
                pending.rejections.append(outbox.Rejection(seq, str(item.get("reason", ""))))
            log.error("event_rejected_by_cloud", rejection=item)
            self.metrics.cloud_rejected.inc()
        self.wake()

    # ----- the pump -----

    async def run(self) -> None:
        backoff = ERROR_BACKOFF_INITIAL_SECONDS
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._tick)
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
        if self.link.connected:
            await self._send_window()
        await self._refresh_metrics()

    async def _apply_acks(self) -> None:
        pending, self._pending = self._pending, PendingAck()
        progress = pending.acked_seq > self.last_acked
        if pending.resend_from is not None and pending.acked_seq >= self.last_acked:
            self._resend_request = pending.resend_from
        if not progress and not pending.rejections:
            await self._persist_skew()
            return
        acked = max(pending.acked_seq, self.last_acked)
        crash_point("after_ack_before_release")
        released = await self.store.write(
            outbox.release, acked, now=utcnow(), skew_seconds=self.clock_skew,
            rejections=pending.rejections,
        )
        if released is None:
            # The cloud claims events this database never wrote (restored or replaced
            # edge database?). Never release on that: alarm instead.
            log.error("ack_beyond_head", acked_seq=acked)
            self.metrics.rejected_messages.labels("ack_beyond_head").inc()
            return
        self._skew_persisted_at = time.monotonic()
        self.metrics.released.inc(released)
        self.last_acked = acked
        self.next_to_send = max(self.next_to_send, acked + 1)
        self.highest_sent = max(self.highest_sent, acked)
        self._waiting_since = time.monotonic() if self.highest_sent > acked else None

    async def _persist_skew(self) -> None:
        if self.clock_skew is None:
            return
        if time.monotonic() - self._skew_persisted_at < SKEW_PERSIST_SECONDS:
            return
        await self.store.write(outbox.store_skew, self.clock_skew)
        self._skew_persisted_at = time.monotonic()

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
        first = self.last_acked + 1
        log.warning("ack_timeout", last_acked=self.last_acked, highest_sent=self.highest_sent)
        self.metrics.resends.labels("ack_timeout").inc(max(self.next_to_send - first, 0))
        self.next_to_send = first
        self._waiting_since = now

    async def _send_window(self) -> None:
        limit = self.last_acked + self.settings.sync_window
        while self.link.connected and self.next_to_send <= limit:
            rows = await self.store.read(outbox.rows_between, self.next_to_send, limit, SEND_CHUNK)
            if not rows:
                return
            sent_at = utcnow()
            key = self.settings.site_key_bytes
            messages: list[Outgoing] = []
            for row in rows:
                envelope = Envelope(
                    site_id=self.settings.site_id,
                    seq=row.seq,
                    event_id=row.event_id,
                    type=row.type,
                    occurred_at=row.occurred_at,
                    sent_at=sent_at,
                    payload=outbox.open_payload(self.settings.cipher, row),
                ).signed(key)
                messages.append((self.link.topics.up, envelope.to_wire(), False))
            epoch = self._epoch
            queued = await self.link.publish(messages)
            if epoch != self._epoch:
                return  # reconnected meanwhile: everything unacked goes again from the rewind
            if queued:
                crash_point("after_publish")
                self.metrics.published.inc(queued)
                last = rows[queued - 1].seq
                self.highest_sent = max(self.highest_sent, last)
                self.next_to_send = last + 1
                if self._waiting_since is None:
                    self._waiting_since = time.monotonic()
            if queued < len(messages):
                return  # the link dropped: on reconnect everything unacked goes again

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
