"""One site cannot slow the others, with the real consumer, Mosquitto and PostgreSQL: a
flood of poison from site A (integers that do not fit, wrong JSON types) is refused
message by message, and a site whose batches fail against the database is set aside
alone — site B's acks keep coming within their usual time meanwhile."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from cloud.sync import service
from cloud.sync.consumer import SyncConsumer
from tests.integration.conftest import ProvisionedSite
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import Peer, envelope, visit_payload

# Another site's ack latency is timed: alone, after the parallel pass (scripts/run-tests.sh).
pytestmark = [pytest.mark.integration, pytest.mark.serial, pytest.mark.timeout(180)]

ACK_WITHIN = 2.0  # seconds, for every one of B's events, whatever A does


@pytest.fixture
def peer_b(broker: Mosquitto, sites: tuple[ProvisionedSite, ...]) -> Iterator[Peer]:
    b = sites[1]
    p = Peer(broker.port, b.mqtt_username, b.mqtt_password, b.site_id)
    yield p
    p.close()


def b_latencies(peer: Peer, site: ProvisionedSite, count: int) -> list[float]:
    latencies = []
    for seq in range(1, count + 1):
        started = time.monotonic()
        peer.send(envelope(site.site_id, site.key, seq,
                           visit_payload(site.project_id, f"1390000{seq:04d}")))
        peer.wait_ack(seq, timeout=30)
        latencies.append(time.monotonic() - started)
    return latencies


def poison(site: ProvisionedSite, n: int) -> bytes:
    body: dict[str, Any] = json.loads(envelope(
        site.site_id, site.key, 1, visit_payload(site.project_id, "13800000001")).to_wire())
    body["seq"] = [2**63 + n, "12", True, 1.5][n % 4]
    return json.dumps(body).encode()


def test_a_poison_flood_on_one_site_does_not_delay_another_sites_acks(
    consumer: SyncConsumer, peer_a: Peer, peer_b: Peer, sites: tuple[ProvisionedSite, ...],
) -> None:
    a, b = sites
    stop = threading.Event()
    sent = 0

    def flood() -> None:
        nonlocal sent
        while not stop.is_set() and sent < 5000:
            peer_a.publish(peer_a.topics.up, poison(a, sent))
            sent += 1

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    try:
        latencies = b_latencies(peer_b, b, 25)
    finally:
        stop.set()
        flooder.join(10)
    assert sent > 200, "the flood did not run"
    assert max(latencies) < ACK_WITHIN, latencies
    assert statistics.median(latencies) < 0.5


def test_a_site_failing_against_the_database_is_set_aside_alone(
    consumer: SyncConsumer, peer_a: Peer, peer_b: Peer, sites: tuple[ProvisionedSite, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = sites
    real = service.apply_batch

    def failing_for_a(*args: Any, **kwargs: Any) -> Any:
        if kwargs["site_id"] == a.site_id:
            raise OperationalError("UPDATE site_link", {}, Exception("disk full on tablespace"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "apply_batch", failing_for_a)
    stop = threading.Event()

    def keep_sending() -> None:
        seq = 1
        while not stop.is_set():
            peer_a.send(envelope(a.site_id, a.key, seq,
                                 visit_payload(a.project_id, f"1380000{seq:04d}")))
            seq += 1
            time.sleep(0.02)

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    try:
        latencies = b_latencies(peer_b, b, 25)
    finally:
        stop.set()
        sender.join(10)
    assert max(latencies) < ACK_WITHIN, latencies
    assert peer_a.last_ack() is None  # A got no ack: its events stay queued at its edge
