"""Signed, expiring, single-use tokens of the WeChat flows.

`state` (OAuth2 CSRF): made when the broker is sent to WeChat, checked when WeChat's code
comes back. WeChat takes at most 128 characters of [A-Za-z0-9], so the state is a random
nonce and its HMAC; what it stands for (the invite code, where to go next) waits in Redis
under the nonce until it expires or is taken — once.
`ticket`: a WeChat identity that still needs a phone number, handed to the H5 with 409
and redeemed once by /auth/wechat/bind: an HS256 JWT.
Both are keyed by keys derived from the JWT secret for their purpose only, so neither can
pass for an access token or for the other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
from datetime import timedelta
from typing import Any

import jwt

from cloud.channel.signin.store import Store, unavailable_on_error
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

STATE_SECONDS = 10 * 60
TICKET_SECONDS = 10 * 60
_ALNUM = string.ascii_letters + string.digits
_NONCE = 24


class Tokens:
    def __init__(self, settings: CloudSettings, store: Store) -> None:
        self.secret = settings.jwt_secret.get_secret_value().encode()
        self.store = store

    def state(self, payload: dict[str, Any]) -> str:
        nonce = "".join(secrets.choice(_ALNUM) for _ in range(_NONCE))
        with unavailable_on_error():
            self.store.put(f"state:{nonce}", json.dumps(payload), STATE_SECONDS)
        return nonce + self._mac(nonce)

    def redeem_state(self, state: str) -> dict[str, Any] | None:
        nonce, mac = state[:_NONCE], state[_NONCE:]
        if len(state) != _NONCE + 32 or not hmac.compare_digest(mac, self._mac(nonce)):
            return None
        with unavailable_on_error():
            payload = self.store.pop(f"state:{nonce}")
        found: dict[str, Any] | None = json.loads(payload) if payload else None
        return found

    def ticket(self, claims: dict[str, Any]) -> str:
        now = utcnow()
        body = {**claims, "typ": "ticket", "jti": secrets.token_urlsafe(12),
                "iat": now, "exp": now + timedelta(seconds=TICKET_SECONDS)}
        return jwt.encode(body, self._key("ticket"), algorithm="HS256")

    def peek_ticket(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired, unused ticket, else None."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key("ticket"), algorithms=["HS256"],
                options={"require": ["exp", "jti", "typ"]})
        except jwt.PyJWTError:
            return None
        if claims.get("typ") != "ticket":
            return None
        with unavailable_on_error():
            if self.store.ttl(f"used:{claims['jti']}") > 0:
                return None
        return claims

    def redeem_ticket(self, token: str) -> dict[str, Any] | None:
        """The claims, once: a replay of the same ticket answers None."""
        claims = self.peek_ticket(token)
        if claims is None:
            return None
        with unavailable_on_error():  # remembered as long as the ticket could be valid
            if not self.store.claim(f"used:{claims['jti']}", TICKET_SECONDS + 60):
                return None
        return claims

    def _mac(self, nonce: str) -> str:
        return hmac.new(self._key("state"), nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self.secret, f"anchang.signin.{purpose}".encode(),
                        hashlib.sha256).digest()
