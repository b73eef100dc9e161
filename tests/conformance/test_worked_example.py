"""§3, §13: the worked example's bytes verify with the suite's own canonical JSON and
HMAC — what a second implementation does first."""

from __future__ import annotations

import json
from datetime import datetime

from tests.conformance import wire
from tests.conformance.spec import worked_example


def test_the_key_is_printed_both_ways() -> None:
    """§3: base64url without padding decodes to the raw key shown beside it."""
    example = worked_example()
    assert wire.decode_key(example.site_key).hex() == example.raw_key_hex


def test_the_signed_line_is_canonical_and_carries_the_stated_signature() -> None:
    example = worked_example()
    key = wire.decode_key(example.site_key)
    assert wire.canonical(json.loads(example.signed_line)).decode() == example.signed_line
    assert wire.signature(json.loads(example.signed_line), key) == example.stated_sig
    envelope = json.loads(example.messages[3])
    assert envelope["sig"] == example.stated_sig
    assert {k: v for k, v in envelope.items() if k != "sig"} == json.loads(
        example.signed_line)


def test_every_message_of_the_example_is_canonical_and_verifies() -> None:
    """§3: the wire form is the canonical JSON with `sig`; each signature is the HMAC of
    the rest under the example key."""
    example = worked_example()
    key = wire.decode_key(example.site_key)
    assert len(example.messages) == 8
    for line in example.messages:
        message = json.loads(line)
        assert wire.canonical(message).decode() == line
        assert wire.signature(message, key) == message["sig"], line[:80]
        assert message["v"] == wire.VERSION and message["site_id"] == "sh-xuhui"


def test_the_example_answers_fit_section_4() -> None:
    """§4.3, §4.6: the example's Acks and DownBatch are shaped as the suite demands of the
    cloud; the customer item is indexed with the site key (§10)."""
    example = worked_example()
    key = wire.decode_key(example.site_key)
    for n in (1, 4, 5):
        wire.check_ack(example.messages[n].encode(), key, "sh-xuhui")
    batch = wire.check_down_batch(example.messages[7].encode(), key, "sh-xuhui")
    item = batch["items"][0]
    assert item["data"]["phone_bidx"] == wire.phone_bidx(key, "13812345678")
    assert item["key"] == f"7:{item['data']['phone_bidx']}"


def test_the_clock_sample_is_the_arithmetic_of_section_9() -> None:
    """§9: skew = arrival − (cloud_time + rtt / 2), for the answer of step 2 arriving at
    06:29:58.120 on the edge clock; the next status carries it."""
    example = worked_example()
    answer, status = json.loads(example.messages[1]), json.loads(example.messages[2])

    def t(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    arrival = t(status["skew_sampled_at"])
    rtt = arrival - t(answer["echo"])
    skew = (arrival - (t(answer["cloud_time"]) + rtt / 2)).total_seconds()
    assert round(skew, 3) == status["clock_skew_seconds"]
