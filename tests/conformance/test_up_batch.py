"""§4.7: batched `up` messages. A cloud that offers them (the user property of its Acks)
reads each event of a batch on its own: the genuine ones apply whatever their neighbours
are, every refusal names its own event, and the answers are those of §6 — one Ack for
the message. A container that cannot be read is refused whole and consumes nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge
from tests.conformance.target import TARGET_ENV, SiteAccess

pytestmark = pytest.mark.integration

Signed = dict[str, Any]


def offered(edge: Edge) -> int:
    """The cloud's offer, from the answer to a live status; a cloud that offers none is
    one the edge never sends a batch to, and has nothing here to pass."""
    before = edge.ack_count()
    status = edge.send_status()
    offer = edge.offers[edge.acks.index(edge.answer_to(status, after=before))]
    if offer is None:
        # Optional in the spec, so another implementation may offer none; ours offers by
        # default, and against it a missing offer is a failure, not a skip.
        assert os.environ.get(TARGET_ENV), "the Anchang cloud offers no batched up messages"
        pytest.skip("the cloud offers no batched up messages (§4.7)")
    assert offer.isdigit() and str(int(offer)) == offer, offer
    assert 2 <= int(offer) <= wire.MAX_UP_BATCH_EVENTS
    return int(offer)


def visits(edge: Edge, site: SiteAccess, seqs: range | list[int]) -> list[dict[str, Any]]:
    return [edge.envelope(seq, wire.visit(site.project_id, wire.phone())) for seq in seqs]


def answer_after(edge: Edge, send: Callable[[], object]) -> dict[str, Any]:
    before = edge.ack_count()
    send()
    return edge.wait_ack(lambda _: True, after=before, what="the Ack answering the message")


def test_every_ack_offers_as_many_events_as_the_cloud_takes(edge: Edge,
                                                           site: SiteAccess) -> None:
    """§4.7: the offer rides on Acks (an MQTT 5 user property, outside the signed body,
    so an agent that does not know it reads the same Ack as before)."""
    offer = offered(edge)
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())))
    ack = edge.acked(1)
    assert edge.offers[edge.acks.index(ack)] == str(offer)


@pytest.fixture
def batching(edge: Edge) -> Edge:
    offered(edge)
    return edge


def test_a_batch_applies_in_seq_order_and_one_ack_answers_it(batching: Edge,
                                                            site: SiteAccess) -> None:
    """§4.7, §6.1: seq order, not order in the batch; one Ack for the whole message."""
    events = visits(batching, site, range(1, 7))
    answer = answer_after(batching, lambda: batching.send_batch(events[::-1]))
    assert (answer["acked_seq"], answer["resend_from"], answer["rejected"]) == (6, None, [])
    feed = batching.feed()
    for event in events:
        key = f"{site.project_id}:{wire.phone_bidx(site.key, event['payload']['phone'])}"
        assert feed[("customer", key)]["visit_count"] == 1


def test_batches_and_single_envelopes_mix_and_resends_are_duplicates(
    batching: Edge, site: SiteAccess
) -> None:
    """§4.7: an agent may send either form at any time; a resend in the other form is
    the same event (§6.1): applied once, no refusal."""
    events = visits(batching, site, range(1, 5))
    batching.send(events[0])
    batching.acked(1)
    batching.send_batch(events[1:3])
    batching.acked(3)
    batching.send(events[3])
    batching.acked(4)
    again = answer_after(batching, lambda: batching.send_batch(
        [{**e, "sent_at": wire.ago(0)} for e in events]))
    assert (again["acked_seq"], again["rejected"]) == (4, [])
    phone = events[1]["payload"]["phone"]
    customer = batching.customer(site.project_id, phone)
    assert customer is not None and customer["visit_count"] == 1


def _poison_unreadable(event: Signed, key: bytes) -> tuple[Signed, int | None]:
    return {**wire.sign(event, key), "seq": "5"}, None


def _poison_huge_seq(event: Signed, key: bytes) -> tuple[Signed, int | None]:
    return wire.sign({**event, "seq": 2**63}, key), None


def _poison_unknown_field(event: Signed, key: bytes) -> tuple[Signed, int | None]:
    return wire.sign({**event, "priority": 1}, key), None


def _poison_bad_signature(event: Signed, key: bytes) -> tuple[Signed, int | None]:
    return {**wire.sign(event, key), "sig": "0" * 64}, 5


def _poison_other_site(event: Signed, key: bytes) -> tuple[Signed, int | None]:
    return wire.sign({**event, "site_id": "other-site"}, key), 5


def _poison_other_version(event: Signed, key: bytes) -> tuple[Signed, int | None]:
    return wire.sign({**event, "v": 3}, key), None


POISONS: dict[str, tuple[Callable[[Signed, bytes], tuple[Signed, int | None]], str]] = {
    "seq as a string": (_poison_unreadable, "malformed"),
    "seq beyond 2^53 - 1": (_poison_huge_seq, "malformed"),
    "an unknown field": (_poison_unknown_field, "malformed"),
    "a wrong signature": (_poison_bad_signature, "bad_signature"),
    "another site": (_poison_other_site, "site_mismatch"),
    "another version": (_poison_other_version, "unsupported_schema"),
}


@pytest.mark.parametrize("poison", POISONS, ids=list(POISONS))
def test_a_poison_event_refuses_itself_only(batching: Edge, site: SiteAccess,
                                            poison: str) -> None:
    """§4.7, §6.4: the genuine events beside it apply and are acked at once; the poison
    is named (with its seq when it could be read) and consumes nothing, so the genuine
    seq 5 still applies when it comes."""
    make, reason = POISONS[poison]
    events = visits(batching, site, range(1, 6))
    bad, named_seq = make(events[4], site.key)
    signed = [wire.sign(e, site.key) for e in events[:4]]
    raw = wire.canonical(wire.up_batch(site.site_id, [signed[0], signed[1], bad, *signed[2:]]))
    answer = answer_after(batching, lambda: batching.publish("up", raw))
    assert answer["acked_seq"] == 4, answer
    assert answer["rejected"] == [{
        "seq": named_seq, "event_id": events[4]["event_id"] if named_seq else None,
        "reason": reason, "consumed": False}]
    batching.send(events[4])
    assert batching.acked(5)["rejected"] == []


def test_a_forged_copy_inside_a_batch_leaves_a_hole_the_genuine_event_fills(
    batching: Edge, site: SiteAccess
) -> None:
    """§6.1, §6.4: 1 and 3 of the batch are genuine, 2 is forged: 1 applies, 3 waits
    above the hole (resend_from 2); the genuine 2 then applies both."""
    events = visits(batching, site, range(1, 4))
    forged = {**wire.sign(events[1], site.key), "sig": "f" * 64}
    raw = wire.canonical(wire.up_batch(site.site_id, [
        wire.sign(events[0], site.key), forged, wire.sign(events[2], site.key)]))
    answer = answer_after(batching, lambda: batching.publish("up", raw))
    assert (answer["acked_seq"], answer["resend_from"]) == (1, 2)
    assert answer["rejected"] == [{"seq": 2, "event_id": events[1]["event_id"],
                                   "reason": "bad_signature", "consumed": False}]
    batching.send(events[1])
    done = batching.acked(3)
    assert (done["resend_from"], done["rejected"]) == (None, [])


def test_an_event_that_can_never_apply_consumes_its_seq_inside_a_batch(
    batching: Edge, site: SiteAccess
) -> None:
    """§6.3: authentic and readable but invalid: refused with consumed true, the seq is
    used up, the events after it apply."""
    events = visits(batching, site, range(1, 4))
    events[1]["payload"]["party_size"] = 0
    answer = answer_after(batching, lambda: batching.send_batch(events))
    assert answer["acked_seq"] == 3
    assert answer["rejected"] == [{"seq": 2, "event_id": events[1]["event_id"],
                                   "reason": "invalid_payload", "consumed": True}]


def test_one_seq_twice_in_a_batch_keeps_the_first(batching: Edge, site: SiteAccess) -> None:
    """§6.1: the same content again is a duplicate; other content is `seq_conflict`
    (consumed), the first copy in the batch is the one kept."""
    first, other = visits(batching, site, [1, 1])
    resent = {**first, "sent_at": wire.ago(0)}
    answer = answer_after(batching, lambda: batching.send_batch([first, resent, other]))
    assert answer["acked_seq"] == 1
    assert answer["rejected"] == [{"seq": 1, "event_id": other["event_id"],
                                   "reason": "seq_conflict", "consumed": True}]
    assert batching.customer(site.project_id, first["payload"]["phone"]) is not None
    assert batching.customer(site.project_id, other["payload"]["phone"]) is None


def _container(site: SiteAccess, events: Any, **changes: Any) -> bytes:
    body = {**wire.up_batch(site.site_id, events), **changes}
    return wire.canonical({k: v for k, v in body.items() if v is not None})


CONTAINERS: dict[str, tuple[Callable[[SiteAccess, list[Signed]], bytes], str]] = {
    "no events": (lambda s, e: _container(s, []), "malformed"),
    "events not an array": (lambda s, e: _container(s, e[0]), "malformed"),
    "more events than any offer": (
        lambda s, e: _container(s, [{"seq": 1}] * (wire.MAX_UP_BATCH_EVENTS + 1)), "malformed"),
    "an unknown container field": (lambda s, e: _container(s, e, sig="0" * 64), "malformed"),
    "a missing site_id": (lambda s, e: json.dumps({"v": 2, "events": e}).encode(), "malformed"),
    "another version": (lambda s, e: _container(s, e, v=3), "unsupported_schema"),
    "a duplicate key": (lambda s, e: _container(s, e)[:-1] + b',"v":2}', "malformed"),
}
# Above 256 KiB a batch is refused as any message is (§2.1; test_message_rejections).


@pytest.mark.parametrize("case", CONTAINERS, ids=list(CONTAINERS))
def test_a_container_that_cannot_be_read_is_refused_whole(batching: Edge, site: SiteAccess,
                                                          case: str) -> None:
    """§4.7, §6.4: one rejection with seq null, nothing consumed (the events of an
    unreadable container are not named: what the cloud could not read names nothing);
    the genuine events, sent again, apply."""
    build, reason = CONTAINERS[case]
    events = visits(batching, site, range(1, 3))
    raw = build(site, [wire.sign(e, site.key) for e in events])
    answer = answer_after(batching, lambda: batching.publish("up", raw))
    assert answer["acked_seq"] == 0
    assert answer["rejected"] == [{"seq": None, "event_id": None, "reason": reason,
                                   "consumed": False}]
    batching.send_batch(events)
    assert batching.acked(2)["rejected"] == []


@pytest.mark.parametrize(("publish", "reason"), [
    ({"retain": True}, "retained_up"), ({"qos": 0}, "qos0_up")])
def test_a_batch_refused_for_its_delivery_or_its_site_names_every_event(
    batching: Edge, site: SiteAccess, publish: dict[str, Any], reason: str
) -> None:
    """§1.1, §6.4: refused whole, unconsumed, and every readable event named with its
    seq, so the agent sees which of its events wait."""
    events = visits(batching, site, range(1, 4))
    answer = answer_after(batching, lambda: batching.send_batch(events, **publish))
    if publish.get("retain"):
        batching.publish("up", b"", retain=True)  # clear the retained copy
    assert answer["acked_seq"] == 0
    assert sorted((r["seq"], r["event_id"], r["reason"], r["consumed"])
                  for r in answer["rejected"]) == [
        (e["seq"], e["event_id"], reason, False) for e in events]
    batching.send_batch(events)
    done = batching.acked(3)  # (with the refusal of the empty retained message, seq null)
    assert [r for r in done["rejected"] if r["seq"] is not None] == []


def test_a_batch_claiming_another_site_names_every_event(batching: Edge,
                                                         site: SiteAccess) -> None:
    events = visits(batching, site, range(1, 3))
    raw = _container(site, [wire.sign(e, site.key) for e in events], site_id="other-site")
    answer = answer_after(batching, lambda: batching.publish("up", raw))
    assert answer["acked_seq"] == 0
    assert sorted((r["seq"], r["reason"], r["consumed"]) for r in answer["rejected"]) == [
        (1, "site_mismatch", False), (2, "site_mismatch", False)]
