"""The sync agent: owns the MQTT link, the up-stream pump, the down-feed, status and the
watchdog, and routes inbound messages (verified with the site key) to them.

Clock skew is measured from fresh round trips only: each online status carries its
`edge_time`; the cloud's Ack answering it echoes that time and carries the cloud's. An
answer that comes back within MAX_RTT gives skew = arrival − (cloud_time + rtt / 2). A
message that sat in a queue (a status or an ack delayed by an outage) is never a sample.

Start it inside a running event loop (`await agent.start()`), stop with `await agent.stop()`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog

from edge_agent import __version__
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.sync.downlink import DownFeed
from edge_agent.sync.metrics import SyncMetrics
from edge_agent.sync.mqtt import MqttLink
from edge_agent.sync.up_batches import batch_offer
from edge_agent.sync.uplink import UpStream
from shared.aio import wait_event
from shared.envelope import UP_BATCH_PROPERTY, Ack, DownBatch, ProtocolError, Status
from shared.timeutil import iso, parse_iso, utcnow


def iso_instant(at: datetime) -> datetime:
    """`at` as it reads back from the wire (microseconds kept, UTC): the echo compares
    equal to what we sent."""
    return parse_iso(iso(at))

log = structlog.get_logger()

WATCHDOG_INTERVAL_SECONDS = 2.0
WATCHDOG_BACKOFF_INITIAL_SECONDS = 1.0
WATCHDOG_BACKOFF_MAX_SECONDS = 60.0
WATCHDOG_STABLE_SECONDS = 300.0  # a client that lived this long resets the backoff
STATUS_ERROR_BACKOFF_SECONDS = 5.0
# A round trip slower than this says more about queues than about clocks: no sample.
MAX_RTT = timedelta(seconds=5)
SKEW_PERSIST_SECONDS = 30.0

M = TypeVar("M", Ack, DownBatch)
# How long a stop waits for its loops to end after cancelling them. A loop ends within
# one store operation (store.db._to_the_end); the limit is a safety net, never reached
# unless a loop swallowed its cancellation (see shared.aio.wait_event).
STOP_LOOPS_SECONDS = 5.0


class SyncAgent:
    def __init__(
        self, settings: EdgeSettings, store: Store, metrics: SyncMetrics | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics or SyncMetrics()
        # This process: two agents running with one site's credentials are told apart.
        self.instance = uuid.uuid4()
        self.clock_skew: float | None = None
        self.skew_sampled_at: datetime | None = None
        self._skew_persisted_at = 0.0
        self._status_sent: datetime | None = None  # edge_time of our latest online status
        self._connected_at: datetime | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._reported: str = "ok"
        self.link = MqttLink(
            settings,
            self.metrics,
            will=lambda: self._status_message("offline"),
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            on_message=self._on_message,
        )
        self.up = UpStream(settings, store, self.link, self.metrics, instance=self.instance,
                           reconnect=self.link.restart)
        self.down = DownFeed(settings, store, self.link, self.metrics)
        self._tasks: list[asyncio.Task[None]] = []
        self._status_now = asyncio.Event()
        self._log = log.bind(site_id=settings.site_id)

    @property
    def online(self) -> bool:
        return self.link.connected

    async def start(self) -> None:
        state = await self.store.read(outbox.get_state)
        self.clock_skew = state.clock_skew_seconds
        await self.up.load()
        await self.down.load()
        self.store.add_outbox_listener(self.up.wake)
        self.link.start(asyncio.get_running_loop())
        for name, factory in (
            ("uplink", self.up.run),
            ("downlink", self.down.run),
            ("status", self._status_loop),
            ("watchdog", self._watchdog_loop),
        ):
            self._tasks.append(asyncio.create_task(self._guard(name, factory), name=name))

    async def stop(self) -> None:
        self.store.remove_outbox_listener(self.up.wake)
        # The loops and what they spawned: a reconnect or a skew write left running would
        # restart the link or write to the store after the stop.
        reconnecting = self.up.reconnecting()
        tasks = [*self._tasks, *self._background,
                 *([reconnecting] if reconnecting is not None else [])]
        for task in tasks:
            task.cancel()
        # Bounded: a loop still running after the limit is a bug (it ignored its
        # cancellation); it is left behind and logged, and the stop goes on.
        _, stuck = await asyncio.wait(tasks, timeout=STOP_LOOPS_SECONDS) if tasks \
            else (set(), set())
        if stuck:
            self._log.error("sync_loops_not_stopped", seconds=STOP_LOOPS_SECONDS,
                            loops=sorted(t.get_name() for t in stuck),
                            why="cancelled but still running; left behind")
        self._tasks.clear()
        farewell = [(self.link.topics.status, self._status_message("offline"), True)]
        await self.link.stop(farewell)

    async def _guard(self, name: str, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Keep a background loop alive: an escaped error is logged and the loop restarts."""
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                self._log.exception("sync_loop_crashed", loop=name)
                self.metrics.errors.labels(name).inc()
                await asyncio.sleep(STATUS_ERROR_BACKOFF_SECONDS)

    # ----- link events (event loop) -----

    def _on_connected(self, session_present: bool) -> None:
        self._connected_at = utcnow()
        self.up.on_connected()
        self.down.on_connected()
        self._status_now.set()

    def _on_disconnected(self) -> None:
        self.up.on_disconnected()

    def _on_message(self, topic: str, payload: bytes, properties: dict[str, str]) -> None:
        topics = self.link.topics
        try:
            if topic == topics.ack:
                ack = self._verified(Ack.from_wire(payload))
                fresh = self._sample_clock(ack, utcnow())
                self.up.on_ack(ack, fresh=fresh,
                               batch_offer=batch_offer(properties.get(UP_BATCH_PROPERTY)))
                if self.up.link_state != self._reported:
                    self._status_now.set()  # tell the cloud (and the console) at once
            elif topic == topics.down:
                self.down.on_batch(self._verified(DownBatch.from_wire(payload)))
            else:
                raise ProtocolError("bad_topic", topic)
        except ProtocolError as exc:
            self._log.warning("message_rejected", topic=topic, reason=exc.reason)
            self.metrics.rejected_messages.labels(exc.reason).inc()

    def _sample_clock(self, ack: Ack, received_at: datetime) -> bool:
        """True when `ack` answers our latest status (a fresh position); a clock sample
        when it also came back quickly."""
        if ack.instance != self.instance or ack.echo is None or ack.echo != self._status_sent:
            return False
        rtt = received_at - ack.echo
        if timedelta(0) <= rtt <= MAX_RTT:
            skew = (received_at - (ack.cloud_time + rtt / 2)).total_seconds()
            self.clock_skew = round(skew, 3)
            self.skew_sampled_at = received_at
            self.metrics.clock_skew.set(skew)
            self._spawn(self._persist_skew(), "persist-skew")
            self._status_now.set()  # the cloud should have it before our events
        return True

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _verified(self, message: M) -> M:
        if message.site_id != self.settings.site_id:
            raise ProtocolError("wrong_site", message.site_id)
        message.verify(self.settings.site_key_bytes)
        return message

    # ----- status -----

    def _status_message(self, state: str, backlog: outbox.Backlog | None = None,
                        *, at: datetime | None = None) -> bytes:
        status = Status(
            site_id=self.settings.site_id,
            epoch=self.up.epoch,
            instance=self.instance,
            state="online" if state == "online" else "offline",
            edge_time=at or utcnow(),
            backlog=backlog.count if backlog else 0,
            next_seq=backlog.head_seq + 1 if backlog else self.up.last_acked + 1,
            last_acked_seq=backlog.last_acked_seq if backlog else self.up.last_acked,
            oldest_unacked_at=backlog.oldest_created_at if backlog else None,
            clock_skew_seconds=self.clock_skew,
            skew_sampled_at=self.skew_sampled_at,
            link=self.up.link_state,
            storage_full=self.store.storage_full,
            agent_version=__version__,
        )
        return status.signed(self.settings.site_key_bytes).to_wire()

    async def publish_status(self) -> None:
        backlog = await self.store.read(outbox.backlog)
        at = utcnow()
        payload = self._status_message("online", backlog, at=at)
        self._status_sent = at
        self._reported = self.up.link_state
        await self.link.publish([(self.link.topics.status, payload, True)])
        sampled, connected = self.skew_sampled_at, self._connected_at
        if sampled is not None and connected is not None and sampled >= connected:
            self.up.clock_reported()

    async def _persist_skew(self) -> None:
        if self.clock_skew is None or time.monotonic() - self._skew_persisted_at < \
                SKEW_PERSIST_SECONDS:
            return
        await self.store.write(outbox.store_skew, self.clock_skew)
        self._skew_persisted_at = time.monotonic()

    async def _status_loop(self) -> None:
        while True:
            await wait_event(self._status_now, self.settings.status_interval_seconds)
            self._status_now.clear()
            if self.link.connected:
                await self.publish_status()

    # ----- watchdog -----

    async def _watchdog_loop(self) -> None:
        backoff = WATCHDOG_BACKOFF_INITIAL_SECONDS
        started = time.monotonic()
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL_SECONDS)
            if self.link.thread_alive():
                if time.monotonic() - started > WATCHDOG_STABLE_SECONDS:
                    backoff = WATCHDOG_BACKOFF_INITIAL_SECONDS
                continue
            self._log.error("mqtt_thread_dead_restarting", backoff=backoff)
            self.metrics.watchdog_restarts.inc()
            await asyncio.sleep(backoff)
            await self.link.restart()
            started = time.monotonic()
            backoff = min(backoff * 2, WATCHDOG_BACKOFF_MAX_SECONDS)
