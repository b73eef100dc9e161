from __future__ import annotations

import pytest

from shared.crypto import (
    BlindIndex,
    CryptoError,
    FieldCipher,
    decode_key,
    new_key,
    parse_key_ring,
)


def test_round_trip_and_ciphertext_is_not_the_plaintext() -> None:
    cipher = FieldCipher(parse_key_ring(f"k1:{new_key()}"))
    token = cipher.encrypt("13812345678", context="customer.phone")
    assert "13812345678" not in token and token.startswith("v1.k1.")
    assert cipher.decrypt(token, context="customer.phone") == "13812345678"
    # Same plaintext, fresh nonce: no equality leak through the ciphertext.
    assert cipher.encrypt("13812345678", context="customer.phone") != token


def test_ciphertext_is_bound_to_its_column_and_tamper_evident() -> None:
    cipher = FieldCipher(parse_key_ring(f"k1:{new_key()}"))
    token = cipher.encrypt("张三", context="customer.name")
    with pytest.raises(CryptoError):
        cipher.decrypt(token, context="customer.phone")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(CryptoError):
        cipher.decrypt(tampered, context="customer.name")


def test_key_rotation_reads_old_rows_and_rewrites_them_with_the_new_key() -> None:
    k1, k2 = new_key(), new_key()
    old = FieldCipher(parse_key_ring(f"k1:{k1}"))
    token = old.encrypt("13812345678", context="c")
    rotated = FieldCipher(parse_key_ring(f"k2:{k2},k1:{k1}"))
    assert rotated.decrypt(token, context="c") == "13812345678"
    assert rotated.needs_rotation(token)
    fresh = rotated.rotate(token, context="c")
    assert fresh.startswith("v1.k2.") and not rotated.needs_rotation(fresh)
    with pytest.raises(CryptoError):
        FieldCipher(parse_key_ring(f"k2:{k2}")).decrypt(token, context="c")


def test_blind_index_is_keyed_and_matches_the_masked_form() -> None:
    a, b = BlindIndex(decode_key(new_key())), BlindIndex(decode_key(new_key()))
    assert a.phone("13812345678") == a.phone("13812345678")
    assert a.phone("13812345678") != b.phone("13812345678")
    assert a.phone_masked("13812345678") == a.phone_masked("138****5678")
    assert a.phone_masked("13812345678") != a.phone("13812345678")


# A short key is a fresh one cut; ids are fixed so parallel workers collect the same tests.
@pytest.mark.parametrize("spec", ["", "k1", "k1:", "bad id!:AAAA", f"k1:{new_key()[:10]}"],
                         ids=["empty", "no-key", "empty-key", "bad-id", "short-key"])
def test_bad_key_rings_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_key_ring(spec)
