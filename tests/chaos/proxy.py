"""An asyncio TCP proxy between the edge agent and the broker that acts on whole MQTT
frames, per direction: drop, duplicate, reorder, delay with jitter (and a byte rate),
fragment, black-hole, swallow the next N frames of a live connection, reset.

`up` is edge → broker, `down` is broker → edge. Faults are set and cleared at run time
from any thread (each control call runs on the proxy's own event loop and returns when
it is in force); random choices come from one seeded RNG. Dropping a frame of a live
TCP connection is what a broken middlebox or a bug does — TCP itself never loses bytes —
and MQTT does not resend on a live connection, so these faults test what the sync
protocol does above MQTT, not MQTT.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from tests.chaos.mqtt_frames import Frame, FrameError, FrameReader

Direction = Literal["up", "down"]
Which = Literal["up", "down", "both"]
DIRECTIONS: tuple[Direction, ...] = ("up", "down")

REORDER_HOLD_SECONDS = 1.0  # a held frame goes out alone if nothing follows it by then
CONNECT_TIMEOUT_SECONDS = 2.0
CONTROL_TIMEOUT_SECONDS = 10.0

T = TypeVar("T")


def _directions(which: Which) -> tuple[Direction, ...]:
    return DIRECTIONS if which == "both" else (which,)


@dataclass
class LinkFaults:
    """What is in force on one direction; read for every frame."""

    drop: dict[str, float] = field(default_factory=dict)  # packet type → probability
    duplicate: dict[str, float] = field(default_factory=dict)
    reorder: dict[str, float] = field(default_factory=dict)
    delay: float = 0.0
    jitter: float = 0.0
    rate: float | None = None  # bytes per second
    fragment: bool = False
    blackhole: bool = False
    reset_at: str | None = None  # reset the connection halfway through the next such frame


@dataclass(frozen=True)
class _Out:
    release_at: float  # loop time
    frame: Frame


_CLOSE = None  # writer queue sentinel: flush, then close the connection


class _Pipe:
    """One direction of one connection: reads frames, applies faults, writes in order."""

    def __init__(self, conn: _Connection, direction: Direction,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conn = conn
        self.direction = direction
        self.reader = reader
        self.writer = writer
        self.frames = FrameReader()
        self.queue: asyncio.Queue[_Out | None] = asyncio.Queue()
        self.last_release = 0.0
        self.held: Frame | None = None
        self.hold_timer: asyncio.TimerHandle | None = None
        self.swallow: dict[str, int] = {}  # set on live connections only
        self.eof_deferred = False  # the source closed while this direction was black-holed


class _Connection:
    def __init__(self, proxy: ChaosProxy) -> None:
        self.proxy = proxy
        self.pipes: dict[Direction, _Pipe] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.closed = False

    def writers(self) -> Iterable[asyncio.StreamWriter]:
        return (pipe.writer for pipe in self.pipes.values())

    def close(self, *, reset: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        for writer in self.writers():
            sock = writer.get_extra_info("socket")
            if reset and sock is not None:
                # SO_LINGER 0: close() sends RST at once instead of a FIN after the data.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if reset:
                writer.transport.abort()
            else:
                writer.close()
        for pipe in self.pipes.values():
            if pipe.hold_timer is not None:
                pipe.hold_timer.cancel()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        self.proxy._connections.discard(self)


class ChaosProxy:
    def __init__(self, upstream_port: int, *, seed: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.upstream_port = upstream_port
        self.port = 0
        self.rng = random.Random(seed)
        self.faults: dict[Direction, LinkFaults] = {d: LinkFaults() for d in DIRECTIONS}
        self.stats: Counter[tuple[str, str, str]] = Counter()  # (direction, type, action)
        self.accepted = 0  # connections proxied to the broker so far
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    # ----- lifecycle (any thread) -----

    def start(self) -> ChaosProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy",
                                        daemon=True)
        self._thread.start()
        self._server = self._run(self._listen())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CONTROL_TIMEOUT_SECONDS)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> ChaosProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ----- fault control (any thread) -----

    def drop(self, which: Which, packet_type: str, probability: float = 1.0) -> None:
        self._update(which, lambda f: f.drop.__setitem__(packet_type, probability))

    def duplicate(self, which: Which, packet_type: str, probability: float = 1.0) -> None:
        self._update(which, lambda f: f.duplicate.__setitem__(packet_type, probability))

    def reorder(self, which: Which, packet_type: str, probability: float = 1.0) -> None:
        self._update(which, lambda f: f.reorder.__setitem__(packet_type, probability))

    def delay(self, which: Which, seconds: float, jitter: float = 0.0,
              rate: float | None = None) -> None:
        def setter(f: LinkFaults) -> None:
            f.delay, f.jitter, f.rate = seconds, jitter, rate
        self._update(which, setter)

    def fragment(self, which: Which) -> None:
        self._update(which, lambda f: setattr(f, "fragment", True))

    def blackhole(self, which: Which) -> None:
        self._update(which, lambda f: setattr(f, "blackhole", True))

    def reset_mid_frame(self, which: Which, packet_type: str = "PUBLISH") -> None:
        self._update(which, lambda f: setattr(f, "reset_at", packet_type))

    def swallow(self, which: Which, count: int, packet_type: str = "PUBLISH") -> int:
        """Swallow the next `count` frames of the type on each connection live now (not on
        later ones); returns how many connections were armed."""
        def arm() -> int:
            for conn in self._connections:
                for d in _directions(which):
                    conn.pipes[d].swallow[packet_type] = count
            return len(self._connections)
        return self._run(self._in_loop(arm))

    def reset(self) -> int:
        """Close every live connection abruptly (RST both ways); returns how many."""
        def reset_all() -> int:
            conns = list(self._connections)
            for conn in conns:
                conn.close(reset=True)
                self.stats["both", "-", "reset"] += 1
            return len(conns)
        return self._run(self._in_loop(reset_all))

    def clear(self, which: Which = "both") -> None:
        """Heal: no faults in force; held frames go out, swallow counters end, and a close
        the black hole kept from one side reaches the other now."""
        def heal() -> None:
            for d in _directions(which):
                self.faults[d] = LinkFaults()
                for conn in list(self._connections):
                    pipe = conn.pipes[d]
                    pipe.swallow.clear()
                    self._release_held(pipe)
                    if pipe.eof_deferred:
                        conn.close(reset=True)
        self._run(self._in_loop(heal))

    @property
    def live_connections(self) -> int:
        return len(self._connections)

    # ----- internals (proxy loop) -----

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "proxy not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CONTROL_TIMEOUT_SECONDS)

    async def _in_loop(self, fn: Callable[[], T]) -> T:
        return fn()

    def _update(self, which: Which, change: Callable[[LinkFaults], None]) -> None:
        def apply() -> None:
            for d in _directions(which):
                change(self.faults[d])
        self._run(self._in_loop(apply))

    async def _listen(self) -> asyncio.Server:
        server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = int(server.sockets[0].getsockname()[1])
        return server

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.close(reset=True)

    async def _accept(self, edge_reader: asyncio.StreamReader,
                      edge_writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                broker_reader, broker_writer = await asyncio.open_connection(
                    self.host, self.upstream_port)
        except (OSError, TimeoutError):
            edge_writer.transport.abort()  # as if the broker refused the connection
            return
        conn = _Connection(self)
        conn.pipes = {"up": _Pipe(conn, "up", edge_reader, broker_writer),
                      "down": _Pipe(conn, "down", broker_reader, edge_writer)}
        self._connections.add(conn)
        self.accepted += 1
        for pipe in conn.pipes.values():
            conn.tasks.append(asyncio.create_task(self._read(pipe)))
            conn.tasks.append(asyncio.create_task(self._write(pipe)))

    async def _read(self, pipe: _Pipe) -> None:
        try:
            while data := await pipe.reader.read(65536):
                for frame in pipe.frames.feed(data):
                    self._route(pipe, frame)
        except FrameError:
            self.stats[pipe.direction, "-", "malformed"] += 1
            pipe.conn.close(reset=True)
            return
        except (ConnectionError, OSError):
            pass
        if self.faults[pipe.direction].blackhole:
            pipe.eof_deferred = True  # nothing crosses a black hole, not even a close
            return
        pipe.queue.put_nowait(_CLOSE)

    def _route(self, pipe: _Pipe, frame: Frame) -> None:
        d, name, faults = pipe.direction, frame.name, self.faults[pipe.direction]
        if faults.blackhole:
            self.stats[d, name, "blackholed"] += 1
            return
        if pipe.swallow.get(name, 0) > 0:
            pipe.swallow[name] -= 1
            self.stats[d, name, "swallowed"] += 1
            return
        if self.rng.random() < faults.drop.get(name, 0.0):
            self.stats[d, name, "dropped"] += 1
            return
        if pipe.held is None and self.rng.random() < faults.reorder.get(name, 0.0):
            pipe.held = frame
            pipe.hold_timer = asyncio.get_running_loop().call_later(
                REORDER_HOLD_SECONDS, self._release_held, pipe)
            self.stats[d, name, "reordered"] += 1
            return
        self._enqueue(pipe, frame)
        if self.rng.random() < faults.duplicate.get(name, 0.0):
            self._enqueue(pipe, frame)
            self.stats[d, name, "duplicated"] += 1
        self._release_held(pipe)  # a held frame goes out after the one that overtook it

    def _release_held(self, pipe: _Pipe) -> None:
        if pipe.hold_timer is not None:
            pipe.hold_timer.cancel()
            pipe.hold_timer = None
        if pipe.held is not None:
            held, pipe.held = pipe.held, None
            self._enqueue(pipe, held)

    def _enqueue(self, pipe: _Pipe, frame: Frame) -> None:
        faults = self.faults[pipe.direction]
        now = asyncio.get_running_loop().time()
        wait = faults.delay + self.rng.uniform(-faults.jitter, faults.jitter)
        if faults.delay or faults.rate:
            self.stats[pipe.direction, frame.name, "delayed"] += 1
        # Delays never reorder: a frame leaves no earlier than the one before it.
        pipe.last_release = max(pipe.last_release, now + max(wait, 0.0))
        pipe.queue.put_nowait(_Out(pipe.last_release, frame))

    async def _write(self, pipe: _Pipe) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (item := await pipe.queue.get()) is not _CLOSE:
                if (wait := item.release_at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not await self._send(pipe, item.frame):
                    return
        except (ConnectionError, OSError):
            pass
        pipe.conn.close()

    async def _send(self, pipe: _Pipe, frame: Frame) -> bool:
        faults, d = self.faults[pipe.direction], pipe.direction
        data = frame.raw
        if faults.reset_at == frame.name:
            faults.reset_at = None  # once
            pipe.writer.write(data[: max(1, len(data) // 2)])
            await pipe.writer.drain()
            self.stats[d, frame.name, "reset_mid_frame"] += 1
            pipe.conn.close(reset=True)
            return False
        self.stats[d, frame.name, "forwarded"] += 1
        if faults.fragment and len(data) > 1:
            self.stats[d, frame.name, "fragmented"] += 1
            cut = 0
            while cut < len(data):
                step = self.rng.randint(1, max(1, len(data) // 3))
                pipe.writer.write(data[cut:cut + step])
                await pipe.writer.drain()
                await asyncio.sleep(0.001)  # separate segments, not one coalesced write
                cut += step
        else:
            pipe.writer.write(data)
            await pipe.writer.drain()
        if faults.rate:
            await asyncio.sleep(len(data) / faults.rate)
        return True
