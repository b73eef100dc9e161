"""扫码带看 codes: a broker's signed, expiring, single-use QR token (ADR 0024).

`AC1.<claims>.<signature>`, both parts base64url without padding: the claims are the
canonical JSON of QrClaims, the signature Ed25519 over the bytes `AC1.<claims>`. The
cloud signs with a private key only it holds; an appliance verifies with the public keys
the down-feed gives it (`kid` names which), so an appliance can check a code offline but
cannot make one. Single use is the verifier's job: the nonce `n` is stored on first use
(the appliance's store, then cloud-wide when the check-in syncs).

The claims name the customer only by `pk`, a site-keyed blind index of the number's 3+4
form (truncated): the code shows no phone number, and the appliance can tell whether the
number typed at the kiosk is the referred one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from shared.crypto import BlindIndex
from shared.envelope import canonical_json
from shared.errors import ValidationFailed

PREFIX = "AC1"
# A code longer than this is not ours (and is not parsed): a scanner that types, or a
# paste, may hand the kiosk anything.
MAX_TOKEN_CHARS = 600
PHONE_KEY_CHARS = 32
_Id = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]


class QrClaims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kid: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    rid: _Id  # referral
    bid: _Id  # broker
    pid: _Id  # project
    pk: str | None = Field(default=None, pattern=rf"^[0-9a-f]{{{PHONE_KEY_CHARS}}}$")
    n: str = Field(min_length=16, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")
    exp: Annotated[int, Strict(), Field(ge=0, le=2**53 - 1)]

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.exp, UTC)


class QrRefused(ValidationFailed):
    """A code the kiosk will not accept; `code` says why (stable), the title in Chinese."""

    code = "qr_invalid"
    title = "二维码无效"


class QrMalformed(QrRefused):
    code = "qr_malformed"
    title = "不是本系统的带看二维码，或二维码不完整，请让经纪人重新出示"


class QrUnknownKey(QrRefused):
    code = "qr_unknown_key"
    title = "二维码的签名密钥未知（可能是伪造的，或本设备尚未同步新密钥），请联系渠道经理"


class QrBadSignature(QrRefused):
    code = "qr_bad_signature"
    title = "二维码签名校验失败，疑似伪造或被篡改，不能用于带看确认"


class QrExpired(QrRefused):
    code = "qr_expired"
    title = "二维码已过期，请经纪人在手机上刷新后重新出示"


class QrWrongProject(QrRefused):
    code = "qr_wrong_project"
    title = "该二维码不属于本案场的项目，不能在此确认带看"


class QrReplayed(QrRefused):
    code = "qr_replayed"
    title = "该二维码已使用过（每个二维码只能使用一次），请经纪人刷新后重新出示"


class QrPhoneMismatch(QrRefused):
    code = "qr_phone_mismatch"
    title = "登记的手机号与经纪人报备的客户号码不符"


class QrReferralUnknown(QrRefused):
    code = "qr_referral_unknown"
    title = "本设备没有该报备，或报备已失效，不能确认带看"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64url: what the down-feed carries."""
    return _b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text))


def phone_key(index: BlindIndex, phone: str) -> str:
    """The claims' `pk` for a full number or a 3+4 / 3+6 mask (site-keyed index)."""
    return index.phone_masked(phone)[:PHONE_KEY_CHARS]


def sign(claims: QrClaims, key: Ed25519PrivateKey) -> str:
    body = f"{PREFIX}.{_b64(canonical_json(claims.model_dump(mode='json')))}"
    return f"{body}.{_b64(key.sign(body.encode()))}"


def token_digest(token: str) -> str:
    """What a refusal records of a code it could not trust: its hash, not the text."""
    return hashlib.sha256(token.strip().encode("utf-8", "replace")).hexdigest()


def read_claims(token: str) -> QrClaims:
    """The claims, unverified (for recording a refusal). QrMalformed if unreadable."""
    return _parse(token)[0]


def _parse(token: str) -> tuple[QrClaims, bytes, bytes]:
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise QrMalformed()
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise QrMalformed()
    try:
        raw = _unb64(parts[1])
        signature = _unb64(parts[2])
        claims = QrClaims.model_validate(json.loads(raw))
    except (binascii.Error, ValueError, ValidationError, UnicodeDecodeError) as exc:
        raise QrMalformed() from exc
    return claims, f"{parts[0]}.{parts[1]}".encode(), signature


def verify(token: str, public_keys: Mapping[str, Ed25519PublicKey], *, now: datetime,
           project_ids: set[int]) -> QrClaims:
    """The claims of a genuine, unexpired code of one of `project_ids`; the caller then
    checks and stores the nonce. Order matters: nothing of an unsigned code is believed,
    so the key and signature come before expiry and project."""
    claims, signed, signature = _parse(token)
    key = public_keys.get(claims.kid)
    if key is None:
        raise QrUnknownKey(extra={"kid": claims.kid})
    try:
        key.verify(signature, signed)
    except InvalidSignature as exc:
        raise QrBadSignature() from exc
    if now.timestamp() >= claims.exp:
        raise QrExpired(extra={"expired_at": claims.expires_at.isoformat()})
    if claims.pid not in project_ids:
        raise QrWrongProject(extra={"project_id": claims.pid})
    return claims
