from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest

from shared.envelope import (
    MAX_MESSAGE_BYTES,
    Ack,
    DownBatch,
    Envelope,
    ProtocolError,
    Topics,
    canonical_json,
    read_up,
    signature,
)
from tests.wire import EPOCH, INSTANCE

KEY = b"k" * 32


def make(**extra: object) -> Envelope:
    values: dict[str, object] = {
        "site_id": "sh-demo", "epoch": EPOCH, "instance": INSTANCE, "seq": 1,
        "event_id": uuid.UUID(int=1), "type": "visit.registered",
        "occurred_at": datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        "sent_at": datetime(2026, 11, 25, 2, 0, 5, tzinfo=UTC),
        "payload": {"phone": "13812345678", "name": "张三"},
    }
    values.update(extra)
    return Envelope(**values).signed(KEY)  # type: ignore[arg-type]


def test_wire_round_trip_verifies() -> None:
    env = make()
    back = Envelope.from_wire(env.to_wire())
    back.verify(KEY)
    assert back == env


def test_signature_is_over_canonical_json_so_another_implementation_can_check_it() -> None:
    env = make()
    body = json.loads(env.to_wire())
    assert body["occurred_at"] == "2026-11-25T02:00:00Z"
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    assert canonical_json(unsigned) == json.dumps(
        unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert signature(body, KEY) == body["sig"]


def test_signed_wire_is_the_signed_message_on_the_wire() -> None:
    unsigned = make().model_copy(update={"sig": ""})
    stale = make(seq=7)  # a message already signed once: its old sig is not carried over
    # A payload holding what looks like the placeholder member does not move the splice.
    decoy = {"sig": "0" * 64, "x": {"sig": "0" * 64}, "s": '"sig":"' + "0" * 64 + '"'}
    for env in (unsigned, stale, make(payload={"名": "王五", "n": [1, None, True]}),
                make(payload=decoy), make(type='"sig":"' + "0" * 50)):
        wire = env.signed_wire(KEY)
        assert wire == env.signed(KEY).to_wire()
        Envelope.from_wire(wire).verify(KEY)
    for message in (Ack(site_id="sh-demo", epoch=EPOCH, acked_seq=3, cloud_time=datetime(
            2026, 11, 25, tzinfo=UTC)), DownBatch(site_id="sh-demo", generation="g", cursor=0,
                                                 next_cursor=0, items=[])):
        assert message.signed_wire(KEY) == message.signed(KEY).to_wire()


@pytest.mark.parametrize("field,value", [("seq", 2), ("site_id", "sh-other"),
                                         ("payload", {"phone": "13900000000"})])
def test_any_changed_field_breaks_the_signature(field: str, value: object) -> None:
    body = json.loads(make().to_wire())
    body[field] = value
    forged = Envelope.from_wire(json.dumps(body).encode())
    with pytest.raises(ProtocolError) as info:
        forged.verify(KEY)
    assert info.value.reason == "bad_signature"


@pytest.mark.parametrize("field,value", [
    (None, None), ("seq", 2), ("sent_at", "2026-11-25T02:00:09Z"),
    ("payload", {"phone": "13900000000"})])
def test_the_digest_read_with_an_event_checks_its_signature_and_hashes_its_content(
    field: str | None, value: object
) -> None:
    """One serialisation for both checks a receiver makes: the same verdict as `verify`,
    the same hash as `Envelope.content()` (a resend differs only in sent_at and sig)."""
    signed = make()
    body = json.loads(signed.to_wire())
    if field is not None:
        body[field] = value
    _, (event,) = read_up(json.dumps(body).encode())
    assert event.envelope is not None and event.digest is not None
    content = hashlib.sha256(canonical_json(event.envelope.content())).hexdigest()
    assert event.digest.content_sha256 == content
    if field is None:
        event.digest.verify(event.envelope.sig, KEY)
        event.envelope.verify(KEY)
        return
    with pytest.raises(ProtocolError) as info:
        event.digest.verify(event.envelope.sig, KEY)
    assert info.value.reason == "bad_signature"
    with pytest.raises(ProtocolError):
        event.envelope.verify(KEY)
    original = hashlib.sha256(canonical_json(signed.content())).hexdigest()
    assert (content == original) == (field == "sent_at")


def test_wrong_key_is_refused() -> None:
    with pytest.raises(ProtocolError):
        make().verify(b"x" * 32)


@pytest.mark.parametrize(
    "raw,reason",
    [(b"not json", "malformed"), (b'{"site_id": "a b"}', "malformed"),
     (b'{"v": 1}', "unsupported_schema"), (b'{"v": 3}', "unsupported_schema"),
     (b"x" * (MAX_MESSAGE_BYTES + 1), "too_large")],
)
def test_bad_frames_get_a_stable_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        Envelope.from_wire(raw)
    assert info.value.reason == reason


def test_unknown_fields_are_refused() -> None:
    body = json.loads(make().to_wire())
    body["admin"] = True
    with pytest.raises(ProtocolError):
        Envelope.from_wire(json.dumps(body).encode())


def test_seq_starts_at_one() -> None:
    with pytest.raises(ValueError):
        make(seq=0)


def test_ack_round_trip() -> None:
    ack = Ack(site_id="sh-demo", epoch=EPOCH, acked_seq=5, resend_from=6,
              cloud_time=datetime.now(UTC)).signed(KEY)
    Ack.from_wire(ack.to_wire()).verify(KEY)


@pytest.mark.parametrize(("field", "value"), [
    ("seq", "12"), ("seq", True), ("seq", 12.0), ("seq", 2**63), ("seq", 2**53),
    ("v", "2"), ("occurred_at", "2019-12-31T23:59:59Z"), ("occurred_at", "2100-01-01T00:00:00Z"),
    ("epoch", "not-a-uuid"), ("type", ""),
])
def test_wire_types_are_strict_and_bounded(field: str, value: object) -> None:
    """A string, float or boolean where the spec says integer is malformed, never coerced;
    an integer beyond 2^53 - 1 or a time outside 2024–2100 too."""
    body = json.loads(make().to_wire())
    body[field] = value
    with pytest.raises(ProtocolError) as info:
        Envelope.from_wire(json.dumps(body).encode())
    assert info.value.reason in ("malformed", "unsupported_schema")


def test_the_largest_wire_integer_is_accepted() -> None:
    body = json.loads(make().to_wire())
    body["seq"] = 2**53 - 1
    assert Envelope.from_wire(json.dumps(body).encode()).seq == 2**53 - 1


def test_topics_confine_a_site_and_parse_back() -> None:
    t = Topics("sh-demo")
    assert t.up == "anchang/v1/sites/sh-demo/up"
    assert Topics.site_of(t.down_request) == ("sh-demo", "down/req")
    for bad in ("anchang/v1/sites/+/up", "anchang/v1/sites/#", "other/sh-demo/up",
                "anchang/v1/sites/sh-demo"):
        with pytest.raises(ProtocolError):
            Topics.site_of(bad)
    with pytest.raises(ValueError):
        Topics("a/b")
