"""§1: the transport — topics and the broker's ACL, QoS, retained messages."""

from __future__ import annotations

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target, reference_violation

pytestmark = pytest.mark.integration

NOT_AUTHORIZED = 0x87


def test_a_site_may_not_publish_on_another_sites_topics(edge: Edge, site: SiteAccess,
                                                        other_site: SiteAccess) -> None:
    """§1.2: the broker refuses a site's PUBLISH on another site's topic (MQTT 5 PUBACK
    0x87, Not authorized), so nothing reaches the other site's stream."""
    message = wire.envelope(other_site.site_id, 1,
                            wire.visit(other_site.project_id, wire.phone()),
                            epoch=wire.uid(), instance=wire.uid())
    code = edge.publish("up", wire.wire(message, other_site.key),
                        topic=wire.topic(other_site.site_id, "up"))
    assert code == NOT_AUTHORIZED


def test_a_qos_0_envelope_is_processed_like_any_other(edge: Edge, site: SiteAccess) -> None:
    """§1: senders use QoS 1, but the cloud does not depend on it: a QoS 0 `up` that
    arrives is applied and acked (the edge's resends cover its loss)."""
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())), qos=0)
    assert edge.acked(1)["rejected"] == []


@reference_violation(
    "cloud/sync/consumer.py ignores the retain flag of `up` messages (it passes "
    "live=not retain for statuses only): a retained `up` replayed when the consumer "
    "subscribes again counts as its instance speaking live, so an old message of the "
    "store's previous agent process raises the twin alarm and the running agent is "
    "refused `instance_conflict`")
def test_a_retained_envelope_replayed_on_subscribe_is_not_a_live_message(
    target: Target, edge: Edge, site: SiteAccess, connect: object
) -> None:
    """§1.1: `up` is never retained; a retained one the broker replays on subscribe is old
    news — it has no effect (in particular it is no sign of a running agent, §8)."""
    event = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    edge.send(event, retain=True)  # the store's previous agent process, misbehaving
    edge.acked(1)
    successor = edge.instance = wire.uid()  # the next process of the same store
    edge.send(edge.envelope(2, wire.visit(site.project_id, wire.phone())))
    edge.acked(2)
    try:
        target.restart_cloud()
        before = edge.ack_count()
        edge.send(edge.envelope(3, wire.visit(site.project_id, wire.phone())))
        answer = edge.wait_ack(lambda a: a["acked_seq"] >= 3 or a["rejected"], after=before,
                               what="the answer to seq 3")
        assert answer["rejected"] == [] and edge.instance == successor
        assert "twin" not in target.alarms(site.site_id)
    finally:
        edge.publish("up", b"", retain=True)  # drops the retained message
