"""§2, §3, §6.4: a message that cannot be read or trusted consumes nothing. An `up`
message of a known site is named in the next Ack (`consumed: false`; seq and event_id
only when the message could be read); a refused status or down request, and anything
for an unknown site or topic, gets no answer and is only recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance import wire
from tests.conformance.client import Edge, wait_for
from tests.conformance.target import SiteAccess, Target

pytestmark = pytest.mark.integration

Mutation = Callable[[dict[str, Any], bytes], bytes]


def refused_unconsumed(edge: Edge, site: SiteAccess, raw: bytes, reason: str, *,
                       readable: dict[str, Any] | None = None) -> None:
    """`raw` (claiming seq 1) is refused with `reason` and consumes nothing: the Ack
    answering it keeps acked_seq 0 and names it; the genuine seq 1 applies afterwards."""
    before = edge.ack_count()
    edge.publish("up", raw)
    answer = edge.wait_ack(lambda _: True, after=before, what="the answer")
    assert answer["rejected"] == [{"seq": readable["seq"] if readable else None,
                                   "event_id": readable["event_id"] if readable else None,
                                   "reason": reason, "consumed": False}]
    assert answer["acked_seq"] == 0
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())))
    assert edge.acked(1)["rejected"] == []


def _signed_with(**changes: Any) -> Mutation:
    """The envelope with fields changed (None: removed), then signed as it stands."""
    def mutate(message: dict[str, Any], key: bytes) -> bytes:
        changed = {k: v for k, v in {**message, **changes}.items()
                   if k not in changes or changes[k] is not None}
        return wire.wire(changed, key)
    return mutate


def _raw(body: bytes) -> Mutation:
    return lambda _message, _key: body


MALFORMED: dict[str, Mutation] = {
    "not JSON": _raw(b"not json"),
    "not UTF-8": _raw(b'{"v":2,"site_id":"\xff\xfe"}'),
    "a JSON array": _raw(b"[]"),
    "an unknown field": _signed_with(priority=1),
    "a missing field": _signed_with(event_id=None),
    "seq as string": _signed_with(seq="1"),
    "seq as float": _signed_with(seq=1.0),
    "seq as boolean": _signed_with(seq=True),
    "seq 0": _signed_with(seq=0),
    "seq negative": _signed_with(seq=-1),
    "seq 2^53": _signed_with(seq=2**53),
    "type empty": _signed_with(type=""),
    "type of 65 characters": _signed_with(type="x" * 65),
    "site_id against its pattern": _signed_with(site_id="Sh_Xuhui"),
    "epoch not a UUID": _signed_with(epoch="store-1"),
    "occurred_at before 2024": _signed_with(occurred_at="2023-12-31T23:59:59Z"),
    "occurred_at from 2100": _signed_with(occurred_at="2100-01-01T00:00:00Z"),
    "sent_at not a time": _signed_with(sent_at="yesterday"),
    "payload not an object": _signed_with(payload=["visit"]),
    "seq null": lambda m, k: wire.wire({**m, "seq": None}, k),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_envelope_is_refused_and_consumes_nothing(edge: Edge, site: SiteAccess,
                                                              case: str) -> None:
    """§2 (JSON, fields, strict types, bounds, patterns, times), §6.4 `malformed`."""
    message = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    refused_unconsumed(edge, site, MALFORMED[case](message, site.key), "malformed")


@pytest.mark.parametrize("value", [1764000000, "1764000000"])
def test_a_time_that_is_not_an_rfc3339_string_is_malformed(edge: Edge, site: SiteAccess,
                                                           value: object) -> None:
    """§2.3: a time is a JSON string in RFC 3339 form; a number is `malformed`."""
    message = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    # Signed over the value the reference would normalise it to, so only the type decides.
    signed = wire.sign({**message, "occurred_at": "2025-11-24T16:00:00Z"}, site.key)
    raw = wire.canonical({**signed, "occurred_at": value})
    refused_unconsumed(edge, site, raw, "malformed")


@pytest.mark.parametrize("body", ["nan", "duplicate key"])
def test_a_body_that_is_not_strict_json_is_malformed(edge: Edge, site: SiteAccess,
                                                     body: str) -> None:
    """§2.1: the body is RFC 8259 JSON with unique keys; anything else is `malformed`."""
    message = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    if body == "nan":
        # Signed as the reference re-serialises NaN (null), so only the parser decides.
        as_read = wire.canonical(message).replace(b'"party_size":2', b'"party_size":null')
        sig = hmac.new(site.key, as_read, hashlib.sha256).hexdigest()
        text = wire.canonical({**message, "sig": sig}).replace(b'"party_size":2',
                                                               b'"party_size":NaN')
    else:
        text = wire.wire(message, site.key).replace(b'{"consultant_id"',
                                                    b'{"party_size":99,"consultant_id"', 1)
    refused_unconsumed(edge, site, text, "malformed")


@pytest.mark.parametrize(("value", "as_number"), [("400.0", 400.0), (True, 1.0)])
def test_a_skew_that_is_not_a_json_number_is_malformed(edge: Edge, site: SiteAccess,
                                                       value: object, as_number: float
                                                       ) -> None:
    """§2.2, §4.4: `clock_skew_seconds` is a number; a string or boolean makes the status
    `malformed` — not answered."""
    at = wire.ts(wire.now())
    status = wire.status(site.site_id, epoch=edge.epoch, instance=edge.instance,
                         edge_time=at, clock_skew_seconds=as_number, skew_sampled_at=at)
    edge.publish("status", wire.canonical({**wire.sign(status, site.key),
                                           "clock_skew_seconds": value}))
    good = edge.send_status()
    edge.answer_to(good)
    assert [a["echo"] for a in edge.acks] == [good["edge_time"]]


@pytest.mark.parametrize("v", [1, 3, "2"])
def test_another_version_is_unsupported_schema_and_is_answered(edge: Edge, site: SiteAccess,
                                                               v: object) -> None:
    """§2.5, §14: `v` other than 2 is `unsupported_schema`; on `up` it is named in the
    Ack like every refused message (seq and event_id null: the message was not read)."""
    message = {**edge.envelope(1, wire.visit(site.project_id, wire.phone())), "v": v}
    refused_unconsumed(edge, site, wire.wire(message, site.key), "unsupported_schema")


def test_a_message_naming_another_site_is_site_mismatch(
    edge: Edge, site: SiteAccess, other_site: SiteAccess
) -> None:
    """§2.5, §6.4 `site_mismatch`: `site_id` must be the topic's site."""
    message = wire.envelope(other_site.site_id, 1, wire.visit(site.project_id, wire.phone()),
                            epoch=edge.epoch, instance=edge.instance)
    refused_unconsumed(edge, site, wire.wire(message, site.key), "site_mismatch",
                       readable=message)


BAD_SIGNATURES: dict[str, Callable[[dict[str, Any], bytes], bytes]] = {
    "another key": lambda m, _k: wire.wire(m, b"\x07" * 32),
    "a changed field": lambda m, k: wire.canonical({**wire.sign(m, k), "type": "visit.x"}),
    "sig missing": lambda m, _k: wire.canonical(m),
    "sig in upper case": lambda m, k: wire.canonical(
        {**wire.sign(m, k), "sig": wire.signature(m, k).upper()}),
    # §3: the signature is over the normalised values; this sender signed the text it sent.
    "signed over a non-normalised time": lambda m, k: wire.wire(
        {**m, "occurred_at": "2026-11-25T10:14:07.25+08:00"}, k),
}


@pytest.mark.parametrize("case", list(BAD_SIGNATURES))
def test_a_message_that_does_not_verify_is_bad_signature(edge: Edge, site: SiteAccess,
                                                         case: str) -> None:
    """§3, §6.4 `bad_signature`: a forgery consumes nothing — the genuine seq still
    applies."""
    message = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    raw = BAD_SIGNATURES[case](message, site.key)
    refused_unconsumed(edge, site, raw, "bad_signature", readable=message)


def test_a_message_above_256_kib_is_refused_and_consumes_nothing(
    edge: Edge, site: SiteAccess, connect: Callable[..., Edge]
) -> None:
    """§1.3, §2.1 `too_large`: refused by the broker or, where a broker lets it through,
    by the cloud — either way it has no effect. (Sent over MQTT 3.1.1: an MQTT 5 client
    would meet the PUBACK trap of §1.3.)"""
    message = edge.envelope(1, wire.visit(site.project_id, wire.phone()))
    raw = wire.wire(message, site.key)
    padded = raw[:-1] + b" " * (wire.MAX_MESSAGE_BYTES + 1 - len(raw)) + b"}"
    assert len(padded) == wire.MAX_MESSAGE_BYTES + 1
    connect(site, subscribe=False, mqtt5=False).publish("up", padded)
    edge.send(edge.envelope(1, wire.visit(site.project_id, wire.phone())))
    ack = edge.acked(1)
    refusals = [r for a in edge.acks for r in a["rejected"]]
    assert refusals in ([], [{"seq": None, "event_id": None, "reason": "too_large",
                              "consumed": False}])
    assert ack["rejected"] == []


def test_a_message_of_exactly_256_kib_is_read(edge: Edge, site: SiteAccess) -> None:
    """§2.1: the limit is inclusive. (Padded with an unknown payload field, the event is
    read and then rejected `invalid_payload`, consuming its seq — not `too_large`.)"""
    payload = {**wire.visit(site.project_id, wire.phone()), "pad": ""}
    message = edge.envelope(1, payload)
    size = len(wire.wire(message, site.key))
    payload["pad"] = "x" * (wire.MAX_MESSAGE_BYTES - size)
    raw = wire.wire(message, site.key)
    assert len(raw) == wire.MAX_MESSAGE_BYTES
    edge.publish("up", raw)
    assert edge.rejection(1, "invalid_payload")["consumed"] is True


def _privileged(target: Target, connect: Callable[..., Edge], site: SiteAccess) -> Edge:
    account = target.privileged()
    if account is None:
        pytest.skip("the target offers no account that may publish on any site's topics")
    return connect(SiteAccess(site.site_id, site.key, account[0], account[1],
                              site.project_id), subscribe=False)


def test_a_message_for_an_unknown_site_is_recorded_not_answered(
    target: Target, connect: Callable[..., Edge], site: SiteAccess
) -> None:
    """§6.4 `unknown_site`: a topic whose site has no credentials at the cloud."""
    publisher = _privileged(target, connect, site)
    ghost = "cf-no-such-site"
    message = wire.envelope(ghost, 1, wire.visit(1, wire.phone()), epoch=wire.uid(),
                            instance=wire.uid())
    publisher.publish("up", wire.wire(message, site.key), topic=wire.topic(ghost, "up"))
    wait_for(lambda: ("unknown_site", None) in target.rejections(ghost)
             or ("unknown_site", 1) in target.rejections(ghost), what="the record")


def test_a_topic_without_a_valid_site_is_bad_topic(
    target: Target, connect: Callable[..., Edge], site: SiteAccess
) -> None:
    """§1.1, §6.4 `bad_topic`: the site segment breaks the site-id pattern."""
    publisher = _privileged(target, connect, site)
    topic = f"{wire.ROOT}/Not_A_Site/up"
    publisher.publish("up", b"{}", topic=topic)
    wait_for(lambda: [r for r, _ in target.rejections(topic=topic)] == ["bad_topic"],
             what="the record")


def test_a_refused_status_gets_no_answer(target: Target, edge: Edge, site: SiteAccess
                                         ) -> None:
    """§6.4, §7: a status that fails verification is recorded and not answered; the next
    good status is answered (and only it)."""
    forged = wire.status(site.site_id, epoch=edge.epoch, instance=edge.instance)
    edge.publish("status", wire.wire(forged, b"\x07" * 32))
    broken = wire.status(site.site_id, epoch=edge.epoch, instance=edge.instance,
                         link="broken")
    edge.publish("status", wire.wire(broken, site.key))
    good = edge.send_status()
    edge.answer_to(good)
    assert [a["echo"] for a in edge.acks] == [good["edge_time"]]
    recorded = {reason for reason, _ in target.rejections(site.site_id)}
    assert {"bad_signature", "malformed"} <= recorded


def test_a_refused_down_request_gets_no_answer(target: Target, edge: Edge, site: SiteAccess
                                               ) -> None:
    """§6.4, §10: a DownRequest that fails verification, or asks for more than 2000
    items, gets no batch; the next good one is answered."""
    edge.publish("down/req", wire.wire(wire.down_request(site.site_id, 0), b"\x07" * 32))
    edge.publish("down/req", wire.wire(wire.down_request(site.site_id, 0, limit=2001),
                                       site.key))
    batch = edge.ask(0, limit=7)
    assert len(edge.batches) == 1 and len(batch["items"]) <= 7
    recorded = {reason for reason, _ in target.rejections(site.site_id)}
    assert {"bad_signature", "malformed"} <= recorded


def test_an_envelope_written_in_another_json_spelling_still_verifies(
    edge: Edge, site: SiteAccess
) -> None:
    """§3: the signature covers values, not bytes — whitespace, key order and another
    UTC offset on the wire verify the same, when the normalised form was signed."""
    message = edge.envelope(1, wire.visit(site.project_id, wire.phone()),
                            occurred_at="2026-11-25T02:14:07.250000Z")
    signed = wire.sign(message, site.key)
    respelled = {**signed, "occurred_at": "2026-11-25T10:14:07.25+08:00"}
    raw = json.dumps(dict(reversed(list(respelled.items()))), indent=2).encode()
    edge.publish("up", raw)
    assert edge.acked(1)["rejected"] == []
