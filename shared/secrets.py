"""Settings field types for key material, validated the same way on both sides."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, SecretStr

from shared.crypto import decode_key, parse_key_ring


def _key(value: SecretStr) -> SecretStr:
    decode_key(value.get_secret_value())
    return value


def _ring(value: SecretStr) -> SecretStr:
    parse_key_ring(value.get_secret_value())
    return value


# A 256-bit key, base64url encoded.
KeySecret = Annotated[SecretStr, AfterValidator(_key)]
# A key ring 'k2:<b64>,k1:<b64>', the first entry active.
KeyRingSecret = Annotated[SecretStr, AfterValidator(_ring)]
