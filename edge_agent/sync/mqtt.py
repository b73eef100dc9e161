"""The MQTT link: a paho-mqtt 2.x client (MQTT 5 by default, persistent session, made by
shared.mqttc like the cloud's) bridged to asyncio.

paho runs its network loop in its own thread (`loop_start`). Every callback only hands its
arguments to the asyncio loop with `call_soon_threadsafe`; all decisions happen there.
Publishing runs on a single worker thread so the event loop never waits on paho's locks,
and order is kept. A PUBACK means nothing to the outbox (only the cloud's Ack does); a
PUBACK with a failure reason code is logged and counted.

States: STOPPED → CONNECTING ⇄ CONNECTED; the watchdog (in the agent) calls `restart()`
when paho's thread has died, which builds a fresh client (a new generation: callbacks
of the old one are ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import paho.mqtt.client as mqtt
import structlog

from edge_agent.settings import EdgeSettings
from edge_agent.sync.metrics import SyncMetrics
from shared.aio import wait_event
from shared.envelope import Topics
from shared.mqttc import connect_async, new_client

log = structlog.get_logger()

STOP_TIMEOUT_SECONDS = 5.0


class LinkState(enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"


Outgoing = tuple[str, bytes, bool]  # topic, payload, retain (always QoS 1)


class MqttLink:
    def __init__(
        self,
        settings: EdgeSettings,
        metrics: SyncMetrics,
        *,
        will: Callable[[], bytes],
        on_connected: Callable[[bool], None],
        on_disconnected: Callable[[], None],
        on_message: Callable[[str, bytes, dict[str, str]], None],
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.site_id)
        self.client_id = f"anchang-edge-{settings.site_id}"
        self.metrics = metrics
        self._will = will
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_message = on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self._generation = 0
        self._publisher: ThreadPoolExecutor | None = None
        self.state = LinkState.STOPPED

    # ----- lifecycle (event loop side) -----

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        if self._publisher is None:
            self._publisher = ThreadPoolExecutor(1, thread_name_prefix="anchang-mqtt-pub")
        self._generation += 1
        self._client = self._build_client(self._generation)
        self.state = LinkState.CONNECTING
        self._client.loop_start()

    def thread_alive(self) -> bool:
        """False when paho's network thread has ended (e.g. an exception escaped it).
        paho has no public accessor: it keeps the thread in `_thread` (None once ended)."""
        thread = getattr(self._client, "_thread", None)
        return isinstance(thread, threading.Thread) and thread.is_alive()

    async def restart(self) -> None:
        old = self._client
        self._generation += 1  # late callbacks of the old client are dropped from now on
        self._mark_down()
        if old is not None:
            await self._shutdown_client(old)
        assert self._loop is not None
        self.start(self._loop)

    async def stop(self, farewell: list[Outgoing] | None = None) -> None:
        """Publish `farewell` (e.g. the offline status), disconnect, stop paho's thread."""
        client = self._client
        if client is not None and farewell and self.connected:
            await self.publish(farewell)
        self._generation += 1
        self._client = None
        self._mark_down()
        self.state = LinkState.STOPPED
        if client is not None:
            await self._shutdown_client(client)
        if self._publisher is not None:
            self._publisher.shutdown(wait=False, cancel_futures=True)
            self._publisher = None

    async def _shutdown_client(self, client: mqtt.Client) -> None:
        """disconnect + loop_stop on a daemon thread: loop_stop joins paho's thread, which
        may take long on a dead link; never block the event loop or process exit on it."""

        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def stop() -> None:
            try:
                client.disconnect()
                client.loop_stop()
            except Exception:  # the old client is being discarded whatever happens
                log.warning("mqtt_client_stop_failed", exc_info=True)
            with contextlib.suppress(RuntimeError):  # the loop may be gone at exit
                loop.call_soon_threadsafe(stopped.set)

        threading.Thread(target=stop, name="anchang-mqtt-stop", daemon=True).start()
        if not await wait_event(stopped, STOP_TIMEOUT_SECONDS):
            log.warning("mqtt_client_stop_timeout", seconds=STOP_TIMEOUT_SECONDS)

    def _mark_down(self) -> None:
        if self.state is LinkState.CONNECTED:
            self.state = LinkState.CONNECTING
            self.metrics.link_up.set(0)
            self._on_disconnected()

    # ----- publishing -----

    async def publish(self, messages: list[Outgoing]) -> int:
        """Hand messages to paho in order; returns how many were queued (stops at the first
        failure, e.g. the connection dropped). Queued is not delivered: only the cloud's
        Ack releases outbox rows."""
        client, publisher, loop = self._client, self._publisher, self._loop
        if client is None or publisher is None or loop is None or not messages:
            return 0
        return await loop.run_in_executor(publisher, self._publish_blocking, client, messages)

    def _publish_blocking(self, client: mqtt.Client, messages: list[Outgoing]) -> int:
        for done, (topic, payload, retain) in enumerate(messages):
            info = client.publish(topic, payload, qos=1, retain=retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._call(self._generation, self._count_refused, mqtt.error_string(info.rc))
                return done
        return len(messages)

    def _count_refused(self, reason: str, mid: int | None = None) -> None:
        """A publish paho could not queue, or one the broker refused (never delivered)."""
        self.metrics.publish_refused.labels(reason).inc()
        log.warning("mqtt_publish_refused", reason=reason, mid=mid)

    # ----- paho client and its callbacks (paho's thread) -----

    def _build_client(self, generation: int) -> mqtt.Client:
        s = self.settings
        client = new_client(  # MQTT 5 (3.1.1 for the embedded demo broker), backoff 1–30 s
            client_id=self.client_id,
            protocol=s.mqtt_protocol,
            username=s.mqtt_username,
            password=s.mqtt_password.get_secret_value() if s.mqtt_password else None,
            tls_ca=s.mqtt_tls_ca,
        )
        client.will_set(self.topics.status, self._will(), qos=1, retain=True)
        client.on_connect = lambda c, u, flags, rc, props: self._paho_connect(
            generation, c, flags, rc
        )
        client.on_disconnect = lambda c, u, flags, rc, props: self._call(
            generation, self._handle_disconnect, str(rc)
        )
        client.on_message = lambda c, u, msg: self._call(
            generation, self._on_message, msg.topic, bytes(msg.payload), _user_properties(msg)
        )
        client.on_publish = lambda c, u, mid, rc, props: self._paho_puback(generation, mid, rc)
        client.on_subscribe = lambda c, u, mid, rcs, props: self._paho_suback(generation, rcs)
        connect_async(  # a persistent session (clean_start=False, long expiry)
            client, host=s.mqtt_host, port=s.mqtt_port, keepalive=s.mqtt_keepalive,
            protocol=s.mqtt_protocol, session_expiry_seconds=s.mqtt_session_expiry_seconds,
        )
        return client

    def _paho_connect(self, generation: int, client: mqtt.Client, flags: Any, rc: Any) -> None:
        if rc.is_failure:
            self._call(generation, self._connect_refused, str(rc))
            return
        # A fresh session has no subscriptions: subscribe on every connect, before any
        # publish of ours can be answered.
        client.subscribe([(self.topics.ack, 1), (self.topics.down, 1)])
        self._call(generation, self._handle_connect, bool(flags.session_present))

    def _paho_puback(self, generation: int, mid: int, rc: Any) -> None:
        if rc.is_failure:
            self._call(generation, self._count_refused, f"{rc} (0x{rc.value:02x})", mid)

    def _paho_suback(self, generation: int, reason_codes: list[Any]) -> None:
        for rc in reason_codes:
            if rc.is_failure:
                self._call(generation, self._subscribe_refused, str(rc))

    def _call(self, generation: int, fn: Callable[..., None], *args: Any) -> None:
        """From paho's thread to the event loop; callbacks of a replaced client are dropped."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def run() -> None:
            if generation == self._generation:
                fn(*args)

        with contextlib.suppress(RuntimeError):  # the loop closed while paho delivered
            loop.call_soon_threadsafe(run)

    # ----- handlers (event loop side) -----

    def _handle_connect(self, session_present: bool) -> None:
        self.state = LinkState.CONNECTED
        self.metrics.link_up.set(1)
        log.info("mqtt_connected", session_present=session_present, client_id=self.client_id)
        self._on_connected(session_present)

    def _handle_disconnect(self, reason: str) -> None:
        if self.state is LinkState.CONNECTED:
            log.warning("mqtt_disconnected", reason=reason)
        self._mark_down()

    def _connect_refused(self, reason: str) -> None:
        log.error("mqtt_connect_refused", reason=reason, host=self.settings.mqtt_host)
        self.metrics.errors.labels("connect_refused").inc()

    def _subscribe_refused(self, reason: str) -> None:
        log.error("mqtt_subscribe_refused", reason=reason)
        self.metrics.subscribe_refused.labels(reason).inc()


def _user_properties(msg: mqtt.MQTTMessage) -> dict[str, str]:
    """MQTT 5 user properties of a received message (none in 3.1.1)."""
    pairs = getattr(getattr(msg, "properties", None), "UserProperty", None) or []
    return {str(name): str(value) for name, value in pairs}
