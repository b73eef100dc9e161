"""The token in a share link (分享链接): the share row, its broker and target and the
expiry, packed in 17 bytes and signed with a 16-byte HMAC — 44 URL-safe characters.

A forged, altered or truncated token is refused by the MAC before any database read, so
a flood of guesses costs one HMAC each. The key is derived one-way from the blind-index
key for this purpose only (that key never rotates: the indexes depend on it, so links
outlive a rotation of the JWT secret); it is never the key of anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cloud.channel.errors import ShareLinkExpired, ShareLinkInvalid
from cloud.settings import CloudSettings
from shared.crypto import decode_key

_LAYOUT = struct.Struct(">IIBII")  # share id, broker id, kind, target id, expiry (unix s)
_MAC_BYTES = 16
_KINDS = {"project": 1, "campaign": 2}
_KIND_NAMES = {v: k for k, v in _KINDS.items()}
TOKEN_CHARS = 44
# The longest text the routes accept as a token; anything longer is not one of ours.
MAX_TOKEN_CHARS = 64


@dataclass(frozen=True)
class ShareClaims:
    share_id: int
    broker_id: int
    kind: str
    target_id: int
    expires_at: datetime


def _key(settings: CloudSettings) -> bytes:
    return hmac.new(decode_key(settings.blind_index_key.get_secret_value()),
                    b"anchang channel share link v1", hashlib.sha256).digest()


def sign(settings: CloudSettings, claims: ShareClaims) -> str:
    payload = _LAYOUT.pack(claims.share_id, claims.broker_id, _KINDS[claims.kind],
                           claims.target_id, int(claims.expires_at.timestamp()))
    mac = hmac.new(_key(settings), payload, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(payload + mac).decode()


def verify(settings: CloudSettings, token: str, now: datetime) -> ShareClaims:
    """The claims of a genuine token; 404 `share_link_invalid` for anything forged,
    410 `share_link_expired` for a genuine one past its expiry."""
    if len(token) != TOKEN_CHARS:
        raise ShareLinkInvalid()
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ShareLinkInvalid() from exc
    payload, mac = raw[:_LAYOUT.size], raw[_LAYOUT.size:]
    if len(raw) != _LAYOUT.size + _MAC_BYTES or not hmac.compare_digest(
            mac, hmac.new(_key(settings), payload, hashlib.sha256).digest()[:_MAC_BYTES]):
        raise ShareLinkInvalid()
    share_id, broker_id, kind, target_id, expires = _LAYOUT.unpack(payload)
    if kind not in _KIND_NAMES:
        raise ShareLinkInvalid()
    expires_at = datetime.fromtimestamp(expires, tz=UTC)
    if expires_at <= now:
        raise ShareLinkExpired()
    return ShareClaims(share_id, broker_id, _KIND_NAMES[kind], target_id, expires_at)


def visitor_key(settings: CloudSettings, share_id: int, visitor_id: str) -> str:
    """What is stored of a visitor: their browser's random id, hashed with this share,
    so visits of two shares cannot be joined into one person's browsing (ADR 0026)."""
    return hmac.new(_key(settings), f"visitor:{share_id}:{visitor_id}".encode(),
                    hashlib.sha256).hexdigest()
