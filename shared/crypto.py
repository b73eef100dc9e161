"""Personal data at rest: AES-GCM field encryption with a key ring, and keyed blind indexes.

Ciphertext format: ``v1.<key_id>.<base64url(nonce || ciphertext+tag)>``. The key id lets
keys rotate: new writes use the active key, old rows stay readable while any key that
wrote them is still in the ring, and `FieldCipher.rotate` re-encrypts a value.
The associated data binds a ciphertext to its column, so a value copied into another
column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.phone import mask_phone, masked_key

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class CryptoError(Exception):
    """A ciphertext cannot be read: unknown key, tampered data or wrong column."""


def new_key() -> str:
    """A fresh 256-bit key, base64url encoded, for settings and site credentials."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def decode_key(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ValueError("keys must be 32 bytes (base64url of 256 bits)")
    return raw


def parse_key_ring(spec: str) -> dict[str, bytes]:
    """'k2:BASE64,k1:BASE64' → ordered ring; the first entry is the active key."""
    ring: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, _, material = part.partition(":")
        if not _KEY_ID.fullmatch(key_id) or not material:
            raise ValueError("key ring entries look like 'k1:<base64url 32 bytes>'")
        ring[key_id] = decode_key(material)
    if not ring:
        raise ValueError("the key ring is empty")
    return ring


class FieldCipher:
    def __init__(self, ring: Mapping[str, bytes]) -> None:
        if not ring:
            raise ValueError("the key ring is empty")
        self._ring = {k: AESGCM(v) for k, v in ring.items()}
        self.active_key_id = next(iter(ring))

    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._ring[self.active_key_id].encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"v1.{self.active_key_id}.{token}"

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        try:
            version, key_id, token = ciphertext.split(".", 2)
        except ValueError as exc:
            raise CryptoError("malformed ciphertext") from exc
        aead = self._ring.get(key_id)
        if version != "v1" or aead is None:
            raise CryptoError(f"unknown key id {key_id!r}")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        try:
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise CryptoError("ciphertext does not authenticate") from exc

    def needs_rotation(self, ciphertext: str) -> bool:
        return ciphertext.split(".", 2)[1] != self.active_key_id

    def rotate(self, ciphertext: str, *, context: str) -> str:
        return self.encrypt(self.decrypt(ciphertext, context=context), context=context)


class BlindIndex:
    """Keyed HMAC of a normalised value: equality search without storing the value."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def phone(self, normalised: str) -> str:
        return self.of("phone", normalised)

    def phone_masked(self, normalised_or_masked: str) -> str:
        """Index of the 3+4 form, so a masked referral finds the full number and back."""
        return self.of("phone34", masked_key(normalised_or_masked))


__all__ = [
    "BlindIndex",
    "CryptoError",
    "FieldCipher",
    "decode_key",
    "mask_phone",
    "new_key",
    "parse_key_ring",
]
