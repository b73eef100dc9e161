"""§6.1–6.2: the cloud applies a site's events exactly once, in seq order; it acks only
what it committed, holds what is above a hole and asks for the hole; a seq seen again is
a duplicate when its content is the same and a conflict when it is not."""

from __future__ import annotations

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge, wait_for
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration


def test_an_event_is_applied_and_acked(edge: Edge, site: SiteAccess) -> None:
    """§6.2, §4.3: after the commit, an Ack of the event's epoch with acked_seq, no
    resend_from, no rejection; it answers no status, so no echo and no instance."""
    phone = wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, phone)))
    ack = edge.acked(1)
    assert ack == {**ack, "epoch": edge.epoch, "acked_seq": 1, "resend_from": None,
                   "echo": None, "instance": None, "rejected": []}
    customer = edge.customer(site.project_id, phone)
    assert customer is not None and customer["visit_count"] == 1


def test_a_duplicate_is_acked_again_and_has_no_second_effect(edge: Edge, site: SiteAccess
                                                             ) -> None:
    """§6.1: seq ≤ acked with the same content (a resend: new sent_at, new sig) is a
    duplicate — answered with an Ack, applied once."""
    phone = wire.phone()
    event = edge.envelope(1, wire.visit(site.project_id, phone))
    edge.send(event)
    edge.acked(1)
    before = edge.ack_count()
    edge.send({**event, "sent_at": wire.ago(0)})
    again = edge.wait_ack(lambda a: True, after=before, what="the ack of the resend")
    assert (again["acked_seq"], again["rejected"]) == (1, [])
    customer = edge.customer(site.project_id, phone)
    assert customer is not None and customer["visit_count"] == 1


def test_events_above_a_hole_are_held_and_the_ack_asks_for_the_hole(edge: Edge,
                                                                    site: SiteAccess) -> None:
    """§6.1: 3 and 4 wait above the hole at 2; the Ack keeps acked_seq at 1 and carries
    resend_from 2; once 2 arrives all apply, in seq order."""
    phones = [wire.phone() for _ in range(4)]
    events = [edge.envelope(seq, wire.visit(site.project_id, p))
              for seq, p in enumerate(phones, start=1)]
    edge.send(events[0])
    edge.acked(1)
    edge.send(events[3])
    edge.send(events[2])
    held = edge.wait_ack(lambda a: a["resend_from"] == 2, what="resend_from 2")
    assert held["acked_seq"] == 1
    edge.send(events[1])
    done = edge.acked(4)
    assert done["resend_from"] is None
    feed = edge.feed()
    for p in phones:
        assert feed[("customer", f"{site.project_id}:{wire.phone_bidx(site.key, p)}")]


def test_a_burst_in_reverse_order_applies_in_seq_order(edge: Edge, site: SiteAccess) -> None:
    """§6.1: contiguity comes from seq, never from arrival order."""
    for seq in range(6, 0, -1):
        edge.send(edge.envelope(seq, wire.visit(site.project_id, wire.phone())))
    assert edge.acked(6)["resend_from"] is None


def test_same_seq_with_other_content_is_a_conflict_and_the_first_stays(
    target: Target, edge: Edge, site: SiteAccess
) -> None:
    """§6.1, §6.3: a resend of an applied seq whose content differs is `seq_conflict`
    (consumed: the seq stays the first event's); the console raises `seq_conflict`."""
    first, second = wire.phone(), wire.phone()
    edge.send(edge.envelope(1, wire.visit(site.project_id, first)))
    edge.acked(1)
    other = edge.envelope(1, wire.visit(site.project_id, second))
    edge.send(other)
    refusal = edge.rejection(1, "seq_conflict")
    assert refusal == {"seq": 1, "event_id": other["event_id"], "reason": "seq_conflict",
                       "consumed": True}
    assert "seq_conflict" in target.alarms(site.site_id)
    assert edge.customer(site.project_id, first) is not None
    assert edge.customer(site.project_id, second) is None


def test_a_conflict_with_an_event_held_above_a_hole(edge: Edge, site: SiteAccess) -> None:
    """§6.1: the comparison covers events held above a hole too; the first one held is the
    one applied when the hole fills."""
    kept, refused = wire.phone(), wire.phone()
    edge.send(edge.envelope(3, wire.visit(site.project_id, kept)))
    edge.wait_ack(lambda a: a["resend_from"] == 1, what="the hole reported")
    edge.send(edge.envelope(3, wire.visit(site.project_id, refused)))
    assert edge.rejection(3, "seq_conflict")["consumed"] is True
    for seq in (1, 2):
        edge.send(edge.envelope(seq, wire.visit(site.project_id, wire.phone())))
    edge.acked(3)
    assert edge.customer(site.project_id, kept) is not None
    assert edge.customer(site.project_id, refused) is None


def test_a_resend_from_another_instance_of_the_same_store_is_a_duplicate(
    edge: Edge, site: SiteAccess
) -> None:
    """§6.1: an event's content is everything but `sent_at`, `sig` and `instance`: the
    same event sent by the store's next agent process is no conflict."""
    event = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    edge.send(event)
    edge.acked(1)
    before = edge.ack_count()
    edge.send({**event, "instance": wire.uid(), "sent_at": wire.ago(0)})
    again = edge.wait_ack(lambda a: True, after=before, what="the ack of the resend")
    assert (again["acked_seq"], again["rejected"]) == (1, [])


def test_two_contents_of_one_seq_in_one_burst_are_a_conflict(target: Target, edge: Edge,
                                                             site: SiteAccess) -> None:
    """§6.1: the conflict rule holds whether or not both copies arrive together. (Three
    pairs back to back: the cloud's batching cannot split them all.)"""
    pairs = [(edge.envelope(seq, wire.visit(site.project_id, wire.phone())),
              edge.envelope(seq, wire.visit(site.project_id, wire.phone())))
             for seq in (1, 2, 3)]
    for first, second in pairs:
        edge.send(first)
        edge.send(second)
    edge.acked(3)

    def conflicts() -> set[int]:
        return {r["seq"] for a in list(edge.acks) for r in a["rejected"]
                if r["reason"] == "seq_conflict"}

    wait_for(lambda: conflicts() == {1, 2, 3}, timeout=3, what="three seq_conflicts")
    assert "seq_conflict" in target.alarms(site.site_id)
