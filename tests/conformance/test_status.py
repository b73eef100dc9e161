"""§7: the cloud answers every live online status with its position for the site's store
and an echo of the status; §11: what a status reports raises and clears the console's
alarms; §12: a status above the cloud's position is the sign of a restored cloud."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge, wait_for
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration


def test_an_online_status_is_answered_with_the_position_and_an_echo(edge: Edge,
                                                                     site: SiteAccess) -> None:
    """§7, §4.3: acked_seq, the enrolled epoch, `echo` = the status's edge_time and
    `instance` = its sender — so the sender can time the round trip (§9)."""
    for seq in (1, 2):
        edge.send(edge.envelope(seq, wire.visit(site.project_id, wire.phone())))
    edge.acked(2)
    status = edge.send_status(last_acked_seq=2, next_seq=3)
    answer = edge.answer_to(status)
    assert answer == {**answer, "epoch": edge.epoch, "acked_seq": 2, "resend_from": None,
                      "rejected": [], "echo": status["edge_time"],
                      "instance": edge.instance}


def test_the_answer_to_a_status_names_an_open_hole(edge: Edge, site: SiteAccess) -> None:
    """§7: with events held above a hole, the answer carries resend_from."""
    edge.send(edge.envelope(2, wire.visit(site.project_id, wire.phone())))
    edge.wait_ack(lambda a: a["resend_from"] == 1, what="the hole")
    answer = edge.answer_to(edge.send_status())
    assert (answer["acked_seq"], answer["resend_from"]) == (0, 1)


def test_an_offline_status_is_not_answered(edge: Edge) -> None:
    """§7: `offline` (the last will, or a clean stop) gets no answer."""
    edge.send_status(state="offline")
    online = edge.send_status()
    edge.answer_to(online)
    assert [a["echo"] for a in edge.acks] == [online["edge_time"]]


def test_a_retained_status_replayed_on_subscribe_is_old_news(
    target: Target, edge: Edge, site: SiteAccess
) -> None:
    """§7: a retained status the broker replays when the cloud subscribes is answered with
    the position but no echo (it is no clock sample, §9) and changes no state."""
    full = wire.status(site.site_id, epoch=edge.epoch, instance=edge.instance,
                       storage_full=True)
    edge.publish("status", wire.wire(full, site.key), retain=True)
    edge.answer_to(full)
    wait_for(lambda: "edge_storage_full" in target.alarms(site.site_id), what="the alarm")
    edge.answer_to(edge.send_status())  # live, not retained: disk fine again
    assert "edge_storage_full" not in target.alarms(site.site_id)
    try:
        before = edge.ack_count()
        target.restart_cloud()
        replay = edge.wait_ack(lambda a: True, after=before, what="the answer to the replay")
        assert (replay["echo"], replay["instance"], replay["epoch"]) == (None, None, edge.epoch)
        assert "edge_storage_full" not in target.alarms(site.site_id)
    finally:
        edge.publish("status", b"", retain=True)  # drops the retained message


@pytest.mark.parametrize(("fields", "alarm"), [({"link": "stalled"}, "edge_stalled"),
                                               ({"storage_full": True}, "edge_storage_full")])
def test_the_edges_own_view_raises_and_clears_an_alarm(
    target: Target, edge: Edge, fields: dict[str, object], alarm: str
) -> None:
    """§7, §11: `link: stalled` and `storage_full: true` raise `edge_stalled` and
    `edge_storage_full`; the next status saying otherwise clears them."""
    edge.answer_to(edge.send_status(**fields))
    assert alarm in target.alarms(edge.site_id)
    edge.answer_to(edge.send_status())
    assert alarm not in target.alarms(edge.site_id)


def test_a_status_above_the_clouds_position_is_cloud_behind_until_resent(
    target: Target, edge: Edge, site: SiteAccess
) -> None:
    """§12: the edge holds acks for seqs the cloud does not have (a restored cloud). The
    fresh answer states the cloud's real position, `cloud_behind` is raised, the edge
    resends from its retained rows, and the next status clears the alarm."""
    answer = edge.answer_to(edge.send_status(last_acked_seq=3, next_seq=4))
    assert answer["acked_seq"] == 0
    assert "cloud_behind" in target.alarms(site.site_id)
    for seq in (1, 2, 3):
        edge.send(edge.envelope(seq, wire.visit(site.project_id, wire.phone())))
    edge.acked(3)
    edge.answer_to(edge.send_status(last_acked_seq=3, next_seq=4))
    assert "cloud_behind" not in target.alarms(site.site_id)


def test_a_status_is_verified_like_any_message(edge: Edge, connect: Callable[..., Edge],
                                               site: SiteAccess, other_site: SiteAccess
                                               ) -> None:
    """§2.5, §7: a status naming another site is not answered (here: on its own topic,
    signed with its own key, but with the other site's id)."""
    forged = wire.status(other_site.site_id, epoch=edge.epoch, instance=edge.instance)
    edge.publish("status", wire.wire(forged, site.key))
    good = edge.send_status()
    edge.answer_to(good)
    assert len(edge.acks) == 1
