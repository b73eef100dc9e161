"""§1: the transport — topics and the broker's ACL, QoS, retained messages."""

from __future__ import annotations

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import SiteAccess, Target

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


def test_a_qos_0_envelope_is_refused_by_name(edge: Edge, site: SiteAccess) -> None:
    """§1, §6.4: senders use QoS 1; an `up` delivered at QoS 0 is refused `qos0_up`
    (consuming nothing) — the same event at QoS 1 then applies."""
    event = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    edge.send(event, qos=0)
    assert edge.rejection(1, "qos0_up")["consumed"] is False
    edge.send(event)
    assert edge.acked(1)["rejected"] == []


def test_a_retained_envelope_is_refused_and_its_replay_is_no_live_message(
    target: Target, edge: Edge, site: SiteAccess, connect: object
) -> None:
    """§1.1, §6.4: `up` is never retained. A retained one is refused `retained_up` when
    published and again when the broker replays it on subscribe — it is never applied,
    and a replay is no sign of a running agent (§8)."""
    event = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    edge.send(event, retain=True)  # the store's previous agent process, misbehaving
    assert edge.rejection(1, "retained_up")["consumed"] is False
    successor = edge.instance = wire.uid()  # the next process of the same store
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())))
    edge.acked(1)
    try:
        target.restart_cloud()  # the broker replays the retained message
        before = edge.ack_count()
        edge.send(edge.envelope(2, wire.visit(site.project_id, wire.phone())))
        answer = edge.wait_ack(lambda a: a["acked_seq"] >= 2, after=before,
                               what="the answer to seq 2")
        assert [r for r in answer["rejected"] if r["reason"] != "retained_up"] == []
        assert edge.instance == successor and "twin" not in target.alarms(site.site_id)
    finally:
        edge.publish("up", b"", retain=True)  # drops the retained message
