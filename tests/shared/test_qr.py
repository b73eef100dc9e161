"""扫码带看 tokens: signed by the cloud's private key, verified with public keys only."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from shared import qr
from shared.crypto import BlindIndex

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
SEED = os.urandom(32)
KEY = qr.private_key(SEED)
PUBLIC = {"q1": qr.load_public_key(qr.public_key_text(KEY))}


def _claims(**changes: object) -> qr.QrClaims:
    values: dict[str, object] = {
        "kid": "q1", "rid": 7, "bid": 3, "pid": 11, "pk": "ab" * 16, "n": qr.new_nonce(),
        "exp": int((NOW + timedelta(minutes=30)).timestamp())}
    values.update(changes)
    return qr.QrClaims.model_validate(values)


def _verify(token: str, *, now: datetime = NOW, projects: set[int] | None = None
            ) -> qr.QrClaims:
    return qr.verify(token, PUBLIC, now=now, project_ids=projects or {11})


def test_a_genuine_code_verifies_and_carries_no_phone() -> None:
    claims = _claims()
    token = qr.sign(claims, KEY)

    assert _verify(token) == claims
    assert _verify(f"  {token}\n") == claims  # a scanner that types adds a newline
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(payload) == {"kid", "rid", "bid", "pid", "pk", "n", "exp"}
    assert not any(c.isdigit() and len(c) == 11 for c in map(str, payload.values()))


def test_a_code_signed_with_another_key_is_forged() -> None:
    forged = qr.sign(_claims(), qr.private_key(os.urandom(32)))

    with pytest.raises(qr.QrBadSignature) as caught:
        _verify(forged)
    assert caught.value.code == "qr_bad_signature"


def test_an_unknown_key_id_is_refused_before_anything_else() -> None:
    token = qr.sign(_claims(kid="q9", exp=0), KEY)  # expired too: the key is checked first

    with pytest.raises(qr.QrUnknownKey):
        _verify(token)


def test_a_tampered_payload_breaks_the_signature() -> None:
    token = qr.sign(_claims(), KEY)
    prefix, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["rid"] = 8  # someone else's referral
    other = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    with pytest.raises(qr.QrBadSignature):
        _verify(f"{prefix}.{other}.{sig}")


def test_expiry_is_exclusive_of_its_instant() -> None:
    claims = _claims(exp=int((NOW + timedelta(minutes=1)).timestamp()))
    token = qr.sign(claims, KEY)

    assert _verify(token, now=NOW + timedelta(seconds=59)) == claims
    with pytest.raises(qr.QrExpired) as caught:
        _verify(token, now=NOW + timedelta(minutes=1))
    assert "过期" in caught.value.detail


def test_a_code_of_another_sites_project_is_refused() -> None:
    token = qr.sign(_claims(pid=12), KEY)

    with pytest.raises(qr.QrWrongProject):
        _verify(token, projects={11})


@pytest.mark.parametrize("text", [
    "", "hello", "AC1.x.y", "AC2." + "a" * 20 + ".b", "AC1..", "AC1.!!!.???",
    "AC1." + base64.urlsafe_b64encode(b'{"kid": "q1"}').decode() + ".AAAA",
    "A" * (qr.MAX_TOKEN_CHARS + 1),
])
def test_garbage_is_malformed_not_an_exception(text: str) -> None:
    with pytest.raises(qr.QrMalformed):
        _verify(text)


def test_extra_claims_are_refused_even_when_signed() -> None:
    body = {**_claims().model_dump(), "phone": "13800138000"}
    raw = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    signed = f"AC1.{raw}"
    sig = base64.urlsafe_b64encode(KEY.sign(signed.encode())).decode().rstrip("=")

    with pytest.raises(qr.QrMalformed):
        _verify(f"{signed}.{sig}")


def test_the_phone_key_matches_a_full_number_and_its_mask() -> None:
    index = BlindIndex(os.urandom(32))

    assert qr.phone_key(index, "13812345678") == qr.phone_key(index, "138****5678")
    assert qr.phone_key(index, "13812345678") != qr.phone_key(index, "13812345679")
    assert len(qr.phone_key(index, "13812345678")) == qr.PHONE_KEY_CHARS
