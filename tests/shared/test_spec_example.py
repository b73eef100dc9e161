"""docs/sync-protocol.md §13 against the reference implementation: every message of the
worked example parses with shared/envelope.py's model, verifies under the example key
and comes back out byte for byte (tests/conformance checks the same text with its own,
independent signer)."""

from __future__ import annotations

import json

import pytest

from shared.crypto import decode_key
from shared.envelope import Ack, DownBatch, DownRequest, Envelope, Signed, Status, canonical_json
from tests.conformance.spec import worked_example

EXAMPLE = worked_example()


def _model(message: dict[str, object]) -> type[Signed]:
    if "payload" in message:
        return Envelope
    if "acked_seq" in message:
        return Ack
    if "state" in message:
        return Status
    if "items" in message:
        return DownBatch
    return DownRequest


@pytest.mark.parametrize("line", EXAMPLE.messages, ids=lambda line: line[:40])
def test_the_example_verifies_with_the_reference_models(line: str) -> None:
    key = decode_key(EXAMPLE.site_key)
    model = _model(json.loads(line))
    message = model.from_wire(line.encode())
    message.verify(key)
    assert message.to_wire().decode() == line
    assert message.signed(key).sig == message.sig


def test_the_signed_line_is_the_envelope_without_its_signature() -> None:
    envelope = Envelope.from_wire(EXAMPLE.messages[3].encode())
    unsigned = {k: v for k, v in envelope.model_dump(mode="json").items() if k != "sig"}
    assert canonical_json(unsigned).decode() == EXAMPLE.signed_line
    assert envelope.sig == EXAMPLE.stated_sig
