"""The cloud's MQTT sync consumer: verify, apply in a transaction, ack after the commit.

paho's network thread reads each `up` message as it arrives (JSON, strict models, each
event's digest: no key, no database — overlapping the worker's wait on PostgreSQL) and
enqueues it; one worker thread drains the queue in batches, so a slow database never
stalls keepalives. Messages are PUBACKed when handed to us, which
is why nothing here relies on the broker: if a batch fails before its commit, no ack
goes out and the edge sends the events again.

One site cannot slow the others: a site whose messages fail against the database is set
aside for a back-off (its messages meanwhile dropped — its appliance resends after its
ack timeout) while every other site's batch goes on at once. The worker also looks at
open holes by the clock (cloud.sync.watch), not only when traffic arrives.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from cloud.settings import CloudSettings
from cloud.sync import feed, inbound, metrics, service, status, watch
from cloud.sync.inbound import Inbound
from cloud.sync.keys import site_key
from cloud.sync.models import SiteLink
from cloud.sync.throttle import RejectionThrottle
from shared.envelope import (
    Ack,
    DownRequest,
    Envelope,
    ProtocolError,
    Rejection,
    Signed,
    Status,
    Topics,
)
from shared.mqttc import connect_async, new_client
from shared.timeutil import utcnow

log = structlog.get_logger()

M = TypeVar("M", Envelope, Status, DownRequest)

SESSION_EXPIRY_SECONDS = 7 * 24 * 3600
KEEPALIVE_SECONDS = 30
BATCH_WAIT_SECONDS = 0.05
SITE_BACKOFF_INITIAL_SECONDS = 1.0
SITE_BACKOFF_MAX_SECONDS = 60.0
GAP_CHECK_SECONDS = 5.0
# One Ack answers at most this many events: 2,000 Rejections of ≤ 130 bytes stay within
# the message size (docs/sync-protocol.md §15).
MAX_EVENTS_PER_ACK = 2000


class SyncConsumer:
    def __init__(self, settings: CloudSettings, engine: Engine, client_id: str | None = None):
        self.settings = settings
        self.engine = engine
        self.connected = False
        self.processed = 0  # messages handled, for status pages and tests
        self._throttle = RejectionThrottle()
        self._site_backoff: dict[str, tuple[float, float]] = {}  # site → (until, seconds)
        self._asked: dict[str, datetime] = {}  # site → last re-ask for an open hole
        self._gaps_checked = 0.0
        self._queue: queue.Queue[Inbound] = queue.Queue()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="sync-consumer", daemon=True)
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        self._client = new_client(
            client_id=client_id or settings.mqtt_client_id, protocol=settings.mqtt_protocol,
            username=settings.mqtt_username, password=password, tls_ca=settings.mqtt_tls_ca,
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subscribe_mid: int | None = None
        self._batch_offer = inbound.batch_offer(settings)

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        connect_async(
            self._client, host=self.settings.mqtt_host, port=self.settings.mqtt_port,
            keepalive=KEEPALIVE_SECONDS, protocol=self.settings.mqtt_protocol,
            session_expiry_seconds=SESSION_EXPIRY_SECONDS,
        )
        self._client.loop_start()
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()
        self.connected = False

    def wait_connected(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.connected

    # ---- paho callbacks (network thread) ----------------------------------------------

    def _topic(self, suffix: str) -> str:
        topic = f"{Topics.ROOT}/+/{suffix}"
        group = self.settings.mqtt_shared_group
        return f"$share/{group}/{topic}" if group else topic

    def _options(self, suffix: str) -> Any:
        """QoS 1; on `up` (MQTT 5) also Retain As Published, so an event an agent wrongly
        published retained shows as such live too, not only when replayed on subscribe.
        Statuses keep the default: their retain flag tells a replay from a live one."""
        if suffix == "up" and self.settings.mqtt_protocol == "5":
            return SubscribeOptions(qos=1, retainAsPublished=True)
        return 1

    def _on_connect(self, client: mqtt.Client, _: Any, flags: Any, reason: Any, __: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("sync.connect_refused", reason=str(reason))
            return
        # A fresh broker session has no subscriptions: subscribe on every connect. Connected
        # means subscribed (SUBACK): before it, an edge's message would find no subscriber.
        _, self._subscribe_mid = client.subscribe(
            [(self._topic(s), self._options(s)) for s in ("up", "status", "down/req")])
        log.info("sync.connected", session_present=bool(flags.session_present))

    def _on_subscribe(self, _: mqtt.Client, __: Any, mid: int, reasons: list[Any], ___: Any
                      ) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [str(r) for r in reasons if getattr(r, "is_failure", False)]
        if refused:
            log.error("sync.subscribe_refused", reasons=refused)
            return
        self.connected = True

    def _on_disconnect(self, _: mqtt.Client, __: Any, ___: Any, reason: Any, ____: Any) -> None:
        self.connected = False
        log.warning("sync.disconnected", reason=str(reason))

    def _on_message(self, _: mqtt.Client, __: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(inbound.on_arrival(Inbound(
            msg.topic, bytes(msg.payload), bool(msg.retain), utcnow(), int(msg.qos))))

    # ---- worker ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._drain()
            if batch:
                self.process(batch)
            if time.monotonic() - self._gaps_checked >= GAP_CHECK_SECONDS:
                self._gaps_checked = time.monotonic()
                self._guarded("*", self.check_gaps)

    def check_gaps(self) -> None:
        """Alarm and ask again for holes open past the threshold, whatever the traffic."""
        with Session(self.engine, expire_on_commit=False) as session:
            answers = watch.overdue_gaps(session, self.settings, utcnow(), self._asked)
            keys = {a.site_id: site_key(self.settings, service.lock_link(session, a.site_id))
                    for a in answers}
            session.commit()
        for answer in answers:
            metrics.RESEND_REQUESTS.labels(answer.site_id).inc()
            self._publish(Topics(answer.site_id).ack, answer.ack(keys[answer.site_id]))

    def _drain(self) -> list[Inbound]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT_SECONDS
        while len(batch) < self.settings.sync_batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def process(self, batch: list[Inbound]) -> None:
        self.processed += len(batch)
        ups: dict[str, list[Inbound]] = defaultdict(list)
        others: list[tuple[str, str, Inbound]] = []
        now = time.monotonic()
        for item in batch:
            try:
                site_id, kind = Topics.site_of(item.topic)
            except ProtocolError as exc:
                self._reject(item, exc, None)
                continue
            if self._site_backoff.get(site_id, (0.0, 0.0))[0] > now:
                metrics.DEFERRED.labels(site_id).inc()
                continue  # set aside: its appliance sends again
            if kind == "up":
                ups[site_id].append(item)
            elif kind in ("status", "down/req"):
                others.append((site_id, kind, item))
        # Status first: it carries the clock-skew estimate the events of this batch need.
        for site_id, kind, item in others:
            if kind == "status":
                self._guarded(site_id, self._apply_status, site_id, item)
        for site_id, items in ups.items():
            self._guarded(site_id, self._apply_up, site_id, items)
        for site_id, kind, item in others:
            if kind == "down/req":
                self._guarded(site_id, self._answer_down, site_id, item)

    def _guarded(self, site_id: str, fn: Callable[..., None], *args: Any) -> None:
        """One site's failure neither kills the worker nor holds up other sites: that site
        is set aside for a growing back-off. Nothing of it was acked, so its appliance
        sends the same events again after its ack timeout."""
        try:
            fn(*args)
            self._site_backoff.pop(site_id, None)
        except Exception as error:
            metrics.APPLY_ERRORS.inc()
            # The plain traceback, as the JSON logs carry it: a console renderer's
            # traceback with every frame's locals (a batch of messages) would cost this
            # worker — and so every other site — seconds.
            log.error("sync.apply_failed" if isinstance(error, SQLAlchemyError)
                      else "sync.unexpected_error", site=site_id,
                      exception=traceback.format_exc())
            _, previous = self._site_backoff.get(site_id, (0.0, 0.0))
            seconds = min(max(previous * 2, SITE_BACKOFF_INITIAL_SECONDS),
                          SITE_BACKOFF_MAX_SECONDS)
            self._site_backoff[site_id] = (time.monotonic() + seconds, seconds)

    def _verified(self, session: Session, site_id: str, item: Inbound, cls: type[M],
                  key: bytes) -> M:
        message = cls.from_wire(item.payload)
        if message.site_id != site_id:
            raise ProtocolError("site_mismatch", f"topic {site_id}, message {message.site_id}")
        message.verify(key)
        return message

    def _apply_up(self, site_id: str, items: list[Inbound]) -> None:
        """Read every message first (no lock held), then apply in chunks whose Ack stays
        within its bounds: a batched message answers for up to MAX_UP_BATCH_EVENTS."""
        read = [(item, item.read if item.read is not None else inbound.read_message(item))
                for item in items]
        chunk: list[tuple[Inbound, inbound.ReadUp]] = []
        answers = 0
        for entry in read:
            weight = inbound.answers(entry[1])
            if chunk and answers + weight > MAX_EVENTS_PER_ACK:
                self._apply_up_chunk(site_id, chunk)
                chunk, answers = [], 0
            chunk.append(entry)
            answers += weight
        if chunk:
            self._apply_up_chunk(site_id, chunk)

    def _apply_up_chunk(self, site_id: str, read: list[tuple[Inbound, inbound.ReadUp]]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                link = service.lock_link(session, site_id)
            except ProtocolError as exc:
                session.rollback()
                for item, _ in read:
                    self._reject(item, exc, site_id)
                return
            key = site_key(self.settings, link)
            good: list[Envelope] = []
            hashes: dict[str, str] = {}  # by signature: the content hashes read with them
            refused: list[Rejection] = []
            for item, (claimed, events) in read:
                if isinstance(events, ProtocolError):
                    self._refuse_up(session, site_id, item.topic, item.payload, events,
                                    inbound.readable_envelopes(item.payload), refused)
                    continue
                if claimed is not None and claimed != site_id:
                    self._refuse_up(session, site_id, item.topic, item.payload,
                                    ProtocolError("site_mismatch", f"topic {site_id}, "
                                                  f"batch {claimed}"),
                                    [e.envelope for e in events if e.envelope], refused)
                    continue
                for event in events:
                    # Each event of a batch is checked and answered on its own: a bad one
                    # refuses itself only, never the genuine ones beside it.
                    try:
                        if event.error is not None:
                            raise event.error
                        envelope = inbound.verified_envelope(event, site_id, key)
                        good.append(envelope)
                        if event.digest is not None:
                            hashes[envelope.sig] = event.digest.content_sha256
                    except ProtocolError as exc:
                        raw = item.payload if claimed is None else inbound.event_bytes(event)
                        self._refuse_up(session, site_id, item.topic, raw, exc,
                                        [event.envelope] if event.envelope else [], refused)
            result = service.apply_batch(
                session, settings=self.settings, site_id=site_id, envelopes=good,
                received_at=min(item.received_at for item, _ in read), content_hashes=hashes,
            )
            result.rejected.extend(refused)
            session.commit()
        self._publish(Topics(site_id).ack, result.ack(key))
        metrics.LAG.labels(site_id).set(result.highest_seen - result.acked_seq)
        metrics.APPLIED.labels(site_id).inc(result.applied)
        metrics.DUPLICATES.labels(site_id).inc(result.duplicates)
        metrics.HELD.labels(site_id).inc(result.held)
        if result.resend_from:
            metrics.RESEND_REQUESTS.labels(site_id).inc()

    def _refuse_up(self, session: Session, site_id: str, topic: str, raw: bytes,
                   error: ProtocolError, envelopes: list[Envelope],
                   refused: list[Rejection]) -> None:
        """A message rejection (§6.4): recorded (throttled) and told to the edge in the
        Ack — signed, so only it can read it as ours; the seq stays open for the genuine
        event. Every event that could be read is named; none, one entry with seq null."""
        metrics.REJECTED.labels(error.reason).inc()
        if self._throttle.allow(site_id, error.reason):
            service.record_rejection(session, topic=topic, raw=raw, error=error,
                                     topic_site_id=site_id,
                                     envelope=envelopes[0] if envelopes else None)
            log.warning("sync.rejected", site=site_id, reason=error.reason)
        reason = error.reason[:64]
        refused.extend([Rejection(seq=e.seq, event_id=str(e.event_id), reason=reason,
                                  consumed=False) for e in envelopes]
                       or [Rejection(reason=reason, consumed=False)])

    def _open(self, session: Session, site_id: str, item: Inbound, cls: type[M]
              ) -> tuple[SiteLink, bytes, M] | None:
        """Lock the site's row and verify the message; a refusal is recorded, not raised."""
        try:
            link = service.lock_link(session, site_id)
            key = site_key(self.settings, link)
            return link, key, self._verified(session, site_id, item, cls, key)
        except ProtocolError as exc:
            session.rollback()
            self._reject(item, exc, site_id)
            return None

    def _apply_status(self, site_id: str, item: Inbound) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            opened = self._open(session, site_id, item, Status)
            if opened is None:
                return
            _, key, message = opened
            result = status.record_status(session, settings=self.settings, status=message,
                                          received_at=item.received_at, live=not item.retain)
            session.commit()
        if message.state == "online":
            self._publish(Topics(site_id).ack, result.ack(key))

    def _answer_down(self, site_id: str, item: Inbound) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            opened = self._open(session, site_id, item, DownRequest)
            if opened is None:
                return
            link, key, request = opened
            batch = feed.batch_after(session, settings=self.settings, link=link, site_key=key,
                                     cursor=request.cursor, limit=request.limit,
                                     generation=request.generation)
            session.commit()
        self._publish(Topics(site_id).down, batch.signed(key))

    def _reject(self, item: Inbound, error: ProtocolError, site_id: str | None) -> None:
        metrics.REJECTED.labels(error.reason).inc()
        if not self._throttle.allow(site_id, error.reason):
            return
        log.warning("sync.rejected", topic=item.topic[:100], reason=error.reason)
        with Session(self.engine) as session:
            readable = inbound.readable_envelopes(item.payload)
            service.record_rejection(session, topic=item.topic, raw=item.payload, error=error,
                                     topic_site_id=site_id,
                                     envelope=readable[0] if readable else None)
            session.commit()

    def _publish(self, topic: str, message: Signed) -> None:
        properties = self._batch_offer if isinstance(message, Ack) else None
        info = self._client.publish(topic, message.to_wire(), qos=1, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            # Not connected: the edge asks again (status on reconnect, ack timeout).
            log.warning("sync.publish_failed", topic=topic, rc=info.rc)
