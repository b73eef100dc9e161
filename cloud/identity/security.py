"""Passwords (argon2id, the 等保 policy) and tokens (JWT access, opaque refresh).

Access tokens are short-lived HS256 JWTs; the server-side session they name (`sid`) is
checked on every request, so logout and disabling take effect at once. Refresh tokens are
random strings; only their sha256 is stored, and each use replaces them.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cloud.identity.errors import NotAuthenticated, WeakPassword
from cloud.settings import CloudSettings

PASSWORD_MIN_LENGTH = 8
# Bounds the argon2 work an anonymous caller can ask for.
PASSWORD_MAX_LENGTH = 128
JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"

# argon2id, RFC 9106's low-memory profile (time 3, 64 MiB, 4 lanes). The test suite
# swaps in a cheap hasher (tests/conftest.py): this one costs 0.1-0.7 s a hash on two
# cores, and hundreds of test users would make most of the suite's time.
PRODUCTION_HASHER = PasswordHasher()
_hasher = PRODUCTION_HASHER
_CLASSES = (
    ("小写字母", str.islower),
    ("大写字母", str.isupper),
    ("数字", str.isdigit),
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def burn_verification(password: str) -> None:
    """Spend the time of one verification, so an unknown login name answers as slowly as a
    wrong password and response times do not reveal which names exist."""
    verify_password(_dummy_hash(), password)


def password_problems(password: str, *, username: str) -> list[str]:
    """The policy of security-baseline.md, as Chinese sentences; empty when it passes."""
    problems: list[str] = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"长度至少 {PASSWORD_MIN_LENGTH} 位")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"长度不能超过 {PASSWORD_MAX_LENGTH} 位")
    classes = sum(1 for _, test in _CLASSES if any(test(ch) for ch in password))
    classes += any(not ch.isalnum() for ch in password)
    if classes < 3:
        problems.append("须包含大写字母、小写字母、数字、特殊字符中的至少 3 类")
    if username and username.casefold() in password.casefold():
        problems.append("不能包含用户名")
    return problems


def check_password_policy(password: str, *, username: str) -> None:
    problems = password_problems(password, username=username)
    if problems:
        raise WeakPassword(
            "密码不符合安全要求：" + "；".join(problems), extra={"problems": problems}
        )


def generate_password(length: int = 16) -> str:
    """A random password that meets the policy, for first and reset passwords."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_=+"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if not password_problems(candidate, username=""):
            return candidate


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    username: str
    roles: tuple[str, ...]
    session_id: str
    pwd_change: bool
    issued_at: datetime
    expires_at: datetime
    jti: str


def issue_access_token(
    settings: CloudSettings,
    *,
    user_id: int,
    username: str,
    roles: frozenset[str],
    session_id: str,
    pwd_change: bool,
    now: datetime,
) -> str:
    expires = now + timedelta(minutes=settings.access_token_minutes)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "username": username,
        "roles": sorted(roles),
        "sid": session_id,
        "pwd_change": pwd_change,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TOKEN_TYPE,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


def decode_access_token(settings: CloudSettings, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "sid", "exp", "iat", "jti"]},
            leeway=5,
        )
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise jwt.InvalidTokenError("not an access token")
        return AccessClaims(
            user_id=int(claims["sub"]),
            username=str(claims.get("username", "")),
            roles=tuple(claims.get("roles", ())),
            session_id=str(claims["sid"]),
            pwd_change=bool(claims.get("pwd_change", False)),
            issued_at=datetime.fromtimestamp(claims["iat"], tz=UTC),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
            jti=str(claims["jti"]),
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise NotAuthenticated("登录凭证无效或已过期，请重新登录") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    # The token carries 256 random bits, so a plain digest is enough to make a stolen
    # table useless; argon2 would only slow every refresh.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    return uuid.uuid4().hex
