"""Edge tokens: how a consultant's phone proves who it is to a sales office's appliance.

The cloud issues them after a login (`POST /api/v1/auth/edge-token`); the edge verifies
them offline. An HS256 JWT signed with the SITE key, which only the cloud and that site's
appliance hold, so a token of one site is worthless at another:

    sub = user id, name, site_id, roles, typ = "edge", iat, exp (12 h), jti,
    sid = the cloud login session it was issued to (absent from older clouds)

The edge additionally requires the user to be active in its roster (the down-fed
consultant list) and the token not revoked by the down-fed revocation list (logout ends
the session's tokens, a password change, reset or disabling ends every token issued
before it), and ends a token idle longer than the cloud's idle timeout.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

EDGE_TOKEN_TYPE = "edge"
EDGE_TOKEN_LIFETIME = timedelta(hours=12)
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30  # phone, edge and cloud clocks differ a little


class EdgeTokenInvalid(Exception):
    """Forged, expired, of another site, or not an edge token."""


@dataclass(frozen=True)
class EdgeClaims:
    user_id: int
    name: str
    site_id: str
    roles: tuple[str, ...]
    expires_at: datetime
    issued_at: datetime
    token_id: str
    session_id: str | None


def issue(
    site_key: bytes, *, user_id: int, name: str, site_id: str, roles: frozenset[str] | set[str],
    now: datetime, lifetime: timedelta = EDGE_TOKEN_LIFETIME, session_id: str | None = None,
) -> tuple[str, datetime]:
    """(token, expires_at)."""
    expires = now + lifetime
    claims = {
        "sub": str(user_id),
        "name": name,
        "site_id": site_id,
        "roles": sorted(roles),
        "typ": EDGE_TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, site_key, algorithm=ALGORITHM), expires


def verify(site_key: bytes, token: str, *, site_id: str) -> EdgeClaims:
    """The claims of a token this site's key signed for this site; EdgeTokenInvalid else."""
    try:
        claims = jwt.decode(
            token, site_key, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "site_id", "typ", "exp", "iat", "jti"]},
        )
        if claims["typ"] != EDGE_TOKEN_TYPE:
            raise EdgeTokenInvalid("not an edge token")
        if claims["site_id"] != site_id:
            raise EdgeTokenInvalid("token of another site")
        return EdgeClaims(
            user_id=int(claims["sub"]),
            name=str(claims.get("name", "")),
            site_id=str(claims["site_id"]),
            roles=tuple(str(r) for r in claims.get("roles", ())),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=UTC),
            token_id=str(claims["jti"])[:64],
            session_id=str(claims["sid"])[:64] if claims.get("sid") else None,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise EdgeTokenInvalid(str(exc)) from exc
