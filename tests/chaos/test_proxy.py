"""The chaos proxy between two plain TCP ends (no broker): every fault acts on whole
frames, in the direction it is set for, and only while it is set."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.chaos.mqtt_frames import FrameReader, build
from tests.chaos.proxy import REORDER_HOLD_SECONDS, ChaosProxy


class End:
    """One end of the proxied link: sends bytes, collects the frames that arrive."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = FrameReader()
        self.frames: list[bytes] = []

    def send(self, *frames: bytes, chunk: int | None = None) -> None:
        data = b"".join(frames)
        step = chunk or len(data)
        for i in range(0, len(data), step):
            self.sock.sendall(data[i:i + step])

    def receive(self, count: int, timeout: float = 3.0) -> list[bytes]:
        """The first `count` frames (fewer if the wait runs out or the link closes)."""
        deadline = time.monotonic() + timeout
        while len(self.frames) < count and (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            self.frames += [f.raw for f in self.reader.feed(data)]
        return self.frames[:count]

    def receive_until(self, marker: bytes, timeout: float = 3.0) -> list[bytes]:
        """Frames up to and including `marker` (a frame no fault touches)."""
        deadline = time.monotonic() + timeout
        while marker not in self.frames:
            assert self.receive(len(self.frames) + 1, deadline - time.monotonic()), "link closed"
            assert time.monotonic() < deadline, f"no {marker!r} within {timeout}s"
        return self.frames[: self.frames.index(marker) + 1]

    def closed(self, timeout: float = 3.0) -> bool:
        """True when the peer closed (FIN or RST) within the timeout."""
        self.sock.settimeout(timeout)
        try:
            while data := self.sock.recv(65536):
                self.frames += [f.raw for f in self.reader.feed(data)]
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return True


class Link:
    def __init__(self, proxy: ChaosProxy, server: socket.socket) -> None:
        accepted = proxy.accepted
        self.edge = End(socket.create_connection(("127.0.0.1", proxy.port), timeout=5))
        conn, _ = server.accept()
        self.broker = End(conn)
        deadline = time.monotonic() + 5  # the proxy registers the pair just after accept()
        while proxy.accepted == accepted:
            assert time.monotonic() < deadline, "the proxy did not take the connection"
            time.sleep(0.005)

    def close(self) -> None:
        for end in (self.edge, self.broker):
            end.sock.close()


@pytest.fixture
def server() -> Iterator[socket.socket]:
    """The broker's place: a listening socket the test accepts from."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(5)
    yield sock
    sock.close()


@pytest.fixture
def proxy(server: socket.socket) -> Iterator[ChaosProxy]:
    with ChaosProxy(server.getsockname()[1], seed=7) as p:
        yield p


@pytest.fixture
def link(proxy: ChaosProxy, server: socket.socket) -> Iterator[Link]:
    made = Link(proxy, server)
    yield made
    made.close()


def publish(n: int) -> bytes:
    return build("PUBLISH", b"\x00\x05topic" + n.to_bytes(2, "big") + b"payload-%d" % n, 2)


PUBACK, PINGREQ, PINGRESP = build("PUBACK", b"\x00\x01"), build("PINGREQ"), build("PINGRESP")


def test_frames_cut_into_odd_segments_pass_whole_both_ways(proxy: ChaosProxy, link: Link
                                                           ) -> None:
    up = [build("CONNECT", b"\x00\x04MQTT\x05\x02\x00\x05"), publish(1), PINGREQ]
    link.edge.send(*up, chunk=3)
    assert link.broker.receive(3) == up
    down = [build("CONNACK", b"\x00\x00"), PUBACK, PINGRESP]
    link.broker.send(*down, chunk=1)
    assert link.edge.receive(3) == down
    assert proxy.stats["up", "PUBLISH", "forwarded"] == 1
    assert proxy.stats["down", "PINGRESP", "forwarded"] == 1


def test_drop_acts_on_its_type_and_direction_only(proxy: ChaosProxy, link: Link) -> None:
    proxy.drop("up", "PUBLISH")
    link.edge.send(publish(1), PINGREQ, publish(2), PINGREQ)
    link.broker.send(publish(3))
    assert link.broker.receive(2) == [PINGREQ, PINGREQ]
    assert link.edge.receive(1) == [publish(3)]
    proxy.clear()
    link.edge.send(publish(4))
    assert link.broker.receive(3) == [PINGREQ, PINGREQ, publish(4)]
    assert proxy.stats["up", "PUBLISH", "dropped"] == 2


def test_drop_with_a_probability_is_seeded(server: socket.socket) -> None:
    def kept(seed: int) -> list[bytes]:
        with ChaosProxy(server.getsockname()[1], seed=seed) as p:
            link = Link(p, server)
            p.drop("up", "PUBLISH", 0.5)
            link.edge.send(*[publish(i) for i in range(40)], PINGREQ)
            frames = link.broker.receive_until(PINGREQ)
            link.close()
            return frames

    first = kept(11)
    assert 5 < len(first) < 36 and first[-1] == PINGREQ
    assert kept(11) == first
    assert kept(12) != first


def test_duplicate_sends_the_same_frame_twice(proxy: ChaosProxy, link: Link) -> None:
    proxy.duplicate("down", "PUBLISH")
    link.broker.send(publish(1), PUBACK)
    assert link.edge.receive(3) == [publish(1), publish(1), PUBACK]


def test_reorder_lets_the_next_frame_overtake(proxy: ChaosProxy, link: Link) -> None:
    proxy.reorder("up", "PUBLISH")
    link.edge.send(publish(1))
    time.sleep(0.1)
    link.edge.send(PINGREQ)
    assert link.broker.receive(2) == [PINGREQ, publish(1)]


def test_a_held_frame_with_nothing_after_it_goes_out_alone(proxy: ChaosProxy, link: Link
                                                           ) -> None:
    proxy.reorder("up", "PUBLISH")
    started = time.monotonic()
    link.edge.send(publish(1))
    assert link.broker.receive(1) == [publish(1)]
    assert time.monotonic() - started >= REORDER_HOLD_SECONDS * 0.9


def test_delay_with_jitter_keeps_the_order(proxy: ChaosProxy, link: Link) -> None:
    proxy.delay("up", 0.3, jitter=0.2)
    frames = [publish(i) for i in range(30)]
    started = time.monotonic()
    for frame in frames:
        link.edge.send(frame)
    assert link.broker.receive(1) == frames[:1]
    assert time.monotonic() - started >= 0.1
    assert link.broker.receive(30) == frames


def test_a_byte_rate_paces_the_frames(proxy: ChaosProxy, link: Link) -> None:
    proxy.delay("down", 0.0, rate=20_000)
    frames = [build("PUBLISH", b"x" * 1000) for _ in range(10)]
    started = time.monotonic()
    link.broker.send(*frames)
    assert link.edge.receive(10) == frames
    assert time.monotonic() - started >= 0.4  # 10 kB at 20 kB/s, less the last frame's wait


def test_fragmented_frames_arrive_intact(proxy: ChaosProxy, link: Link) -> None:
    proxy.fragment("both")
    link.edge.send(publish(1), publish(2))
    link.broker.send(PUBACK)
    assert link.broker.receive(2) == [publish(1), publish(2)]
    assert link.edge.receive(1) == [PUBACK]
    assert proxy.stats["up", "PUBLISH", "fragmented"] == 2


def test_swallow_takes_the_next_n_frames_of_live_connections_only(
    proxy: ChaosProxy, server: socket.socket, link: Link
) -> None:
    assert proxy.swallow("up", 3) == 1
    link.edge.send(*[publish(i) for i in range(5)], PINGREQ)
    assert link.broker.receive_until(PINGREQ) == [publish(3), publish(4), PINGREQ]
    later = Link(proxy, server)
    later.edge.send(publish(9))
    assert later.broker.receive(1) == [publish(9)]
    later.close()
    assert proxy.stats["up", "PUBLISH", "swallowed"] == 3


def test_a_black_hole_passes_nothing_and_keeps_the_sockets_open(
    proxy: ChaosProxy, link: Link
) -> None:
    proxy.blackhole("both")
    link.edge.send(publish(1))
    link.broker.send(PUBACK)
    assert link.broker.receive(1, timeout=0.3) == []
    assert link.edge.receive(1, timeout=0.3) == []
    # The broker gives up on the silent client: the edge does not hear of it…
    link.broker.sock.close()
    assert not link.edge.closed(timeout=0.3)
    # …until the hole closes, and then the connection is gone.
    proxy.clear()
    assert link.edge.closed()
    assert link.edge.frames == []


def test_reset_closes_both_sides_at_once(proxy: ChaosProxy, link: Link) -> None:
    link.edge.send(publish(1))
    assert link.broker.receive(1) == [publish(1)]
    assert proxy.reset() == 1
    assert link.edge.closed(timeout=1) and link.broker.closed(timeout=1)
    assert proxy.live_connections == 0


def test_reset_mid_frame_delivers_half_a_frame_then_closes(proxy: ChaosProxy, link: Link
                                                           ) -> None:
    proxy.reset_mid_frame("up")
    link.edge.send(PINGREQ, publish(1))
    assert link.broker.closed()
    assert link.broker.frames == [PINGREQ]
    assert 0 < link.broker.reader.pending < len(publish(1))
    assert link.edge.closed(timeout=1)


def test_a_stream_that_is_not_mqtt_is_cut(proxy: ChaosProxy, link: Link) -> None:
    link.edge.send(b"\x30\xff\xff\xff\xff\x01")
    assert link.edge.closed()
    assert proxy.stats["up", "-", "malformed"] == 1


def test_no_broker_behind_the_proxy_closes_the_client(server: socket.socket) -> None:
    port = server.getsockname()[1]
    server.close()
    with ChaosProxy(port) as proxy:
        client = End(socket.create_connection(("127.0.0.1", proxy.port), timeout=5))
        assert client.closed()
        client.sock.close()
