"""The chaos proxy in front of a real Mosquitto (generated ACL) with paho clients and the
cloud sync consumer: MQTT 5 passes through it frame by frame, and a fault set on one
direction acts on the real protocol."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud.sync.consumer import SyncConsumer
from tests.chaos.proxy import ChaosProxy
from tests.integration.conftest import ProvisionedSite
from tests.integration.mosquitto import Mosquitto
from tests.integration.peer import Peer, envelope, visit_payload, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(broker: Mosquitto) -> Iterator[ChaosProxy]:
    with ChaosProxy(broker.port, seed=1) as p:
        yield p


@pytest.fixture
def proxied_peer(proxy: ChaosProxy, sites: tuple[ProvisionedSite, ...]) -> Iterator[Peer]:
    a = sites[0]
    p = Peer(proxy.port, a.mqtt_username, a.mqtt_password, a.site_id)
    yield p
    p.close()


def test_mqtt_5_passes_through_frame_by_frame(
    consumer: SyncConsumer, proxy: ChaosProxy, proxied_peer: Peer,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    a = sites[0]
    proxied_peer.send(envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13800000001")))
    assert proxied_peer.wait_ack(1).acked_seq == 1
    for direction, name in [("up", "CONNECT"), ("up", "SUBSCRIBE"), ("up", "PUBLISH"),
                            ("down", "CONNACK"), ("down", "SUBACK"), ("down", "PUBACK"),
                            ("down", "PUBLISH")]:
        assert proxy.stats[direction, name, "forwarded"] >= 1, (direction, name)
    assert proxy.accepted == 1


def test_acks_dropped_on_the_way_down_arrive_once_the_fault_clears(
    consumer: SyncConsumer, proxy: ChaosProxy, proxied_peer: Peer,
    sites: tuple[ProvisionedSite, ...],
) -> None:
    a = sites[0]
    proxy.drop("down", "PUBLISH")
    first = envelope(a.site_id, a.key, 1, visit_payload(a.project_id, "13800000002"))
    proxied_peer.send(first)  # its PUBACK comes back: only PUBLISH frames are dropped
    wait_for(lambda: proxy.stats["down", "PUBLISH", "dropped"] >= 1, what="the ack dropped")
    assert proxied_peer.acks == []
    proxy.clear()
    proxied_peer.send(first)  # the resend is a duplicate, answered with an ack
    assert proxied_peer.wait_ack(1).acked_seq == 1
