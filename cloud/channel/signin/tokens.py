"""Signed, expiring, single-use tokens of the WeChat flows.

`state` (OAuth2 CSRF): made when the broker is sent to WeChat, checked when WeChat's code
comes back; it carries the invite code and where to go next, so neither can be swapped.
`ticket`: a WeChat identity that still needs a phone number, handed to the H5 with 409
and redeemed once by /auth/wechat/bind. Both are HS256 JWTs under a key derived from the
JWT secret for this purpose only, so neither can pass for an access token or the other.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import jwt

from cloud.channel.signin.store import Store, unavailable_on_error
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

STATE_SECONDS = 10 * 60
TICKET_SECONDS = 10 * 60


class Tokens:
    def __init__(self, settings: CloudSettings, store: Store) -> None:
        self.secret = settings.jwt_secret.get_secret_value().encode()
        self.store = store

    def issue(self, purpose: str, claims: dict[str, Any], seconds: int) -> str:
        now = utcnow()
        body = {**claims, "typ": purpose, "jti": secrets.token_urlsafe(12),
                "iat": now, "exp": now + timedelta(seconds=seconds)}
        return jwt.encode(body, self._key(purpose), algorithm="HS256")

    def peek(self, purpose: str, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired token (not yet used up), else None."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key(purpose), algorithms=["HS256"],
                options={"require": ["exp", "jti", "typ"]})
        except jwt.PyJWTError:
            return None
        if claims.get("typ") != purpose:
            return None
        with unavailable_on_error():
            if self.store.ttl(f"used:{claims['jti']}") > 0:
                return None
        return claims

    def redeem(self, purpose: str, token: str) -> dict[str, Any] | None:
        """The claims, once: a replay of the same token answers None."""
        claims = self.peek(purpose, token)
        if claims is None:
            return None
        # Remembered as long as the token could still be valid.
        with unavailable_on_error():
            if not self.store.claim(f"used:{claims['jti']}", max(STATE_SECONDS,
                                                                 TICKET_SECONDS) + 60):
                return None
        return claims

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self.secret, f"anchang.signin.{purpose}".encode(),
                        hashlib.sha256).digest()
