"""Login abuse: rate limits per source and per account, and lockouts per account+source
with a progressive delay. Counters live in Redis so every API process sees the same ones
(in-process only when no redis_url is set: the demo).

Why per account+source: five wrong passwords locking the account everywhere would let an
anonymous attacker keep any user out forever. Here they lock the account for that source
only, each repeat lock from it that day lasting twice as long; failures from sources the
account never signed in from also count together, and past their limit only the
account's known sources may try. Keys are made from the name as typed, whether or not the
account exists, so an unknown name and a locked one get the same answers.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis
import structlog

from cloud.identity.errors import AccountLocked, LoginRateLimited
from cloud.settings import CloudSettings
from shared.errors import Unavailable

log = structlog.get_logger()

LEVEL_MEMORY = 24 * 3600  # a repeat lock from a source within this doubles the delay
# How long a run of failures from a source is remembered: far beyond any lock, short
# enough that one typo a day never adds up to a lock.
FAILURE_MEMORY = 24 * 3600


class Counters(Protocol):
    """The few atomic operations the throttle needs, in Redis terms; ttl in seconds."""

    def incr(self, key: str, ttl: int) -> int:
        """Add one; a new key expires after `ttl`."""

    def ttl(self, key: str) -> int:
        """Seconds left, 0 when the key is absent."""

    def get(self, key: str) -> int: ...

    def set(self, key: str, ttl: int) -> None: ...

    def delete(self, *keys: str) -> None: ...

    def delete_prefix(self, prefix: str) -> None: ...


@dataclass(frozen=True)
class Limits:
    lockout_threshold: int
    lockout_seconds: int
    lockout_max_seconds: int
    ip_limit: int
    ip_window: int
    account_limit: int
    account_window: int
    known_source_ttl: int

    @classmethod
    def of(cls, settings: CloudSettings) -> Limits:
        return cls(
            lockout_threshold=settings.lockout_threshold,
            lockout_seconds=settings.lockout_minutes * 60,
            lockout_max_seconds=settings.lockout_max_minutes * 60,
            ip_limit=settings.login_ip_limit,
            ip_window=settings.login_ip_window_seconds,
            account_limit=settings.login_account_limit,
            account_window=settings.login_account_window_minutes * 60,
            known_source_ttl=settings.login_known_source_days * 86400,
        )


class LoginThrottle:
    def __init__(self, counters: Counters, limits: Limits, prefix: str) -> None:
        self.counters = counters
        self.limits = limits
        self.prefix = prefix + "login:"

    def admit(self, username: str, source: str | None) -> None:
        """Before the password is looked at: LoginRateLimited or LoginLocked, or pass."""
        src = source or "-"
        with _unavailable_on_error():
            if self.counters.incr(self._key("ip", src), self.limits.ip_window) \
                    > self.limits.ip_limit:
                # Logged, not audited: a flood must not grow the audit chain.
                log.warning("login_refused", reason="source_rate", source=src)
                raise LoginRateLimited(retry_after=self._wait(self._key("ip", src)))
            lock = self._key("lock", self._account(username), src)
            if (left := self.counters.ttl(lock)) > 0:
                log.warning("login_refused", reason="locked", source=src)
                raise AccountLocked(left)
            account = self._key("acct", self._account(username))
            if (not self._known(username, src)
                    and self.counters.get(account) >= self.limits.account_limit):
                log.warning("login_refused", reason="account_rate", source=src)
                raise AccountLocked(self._wait(account))

    def failed(self, username: str, source: str | None) -> int | None:
        """Count a wrong password; the lock's length in seconds when this one locks."""
        src = source or "-"
        account = self._account(username)
        with _unavailable_on_error():
            if not self._known(username, src):
                self.counters.incr(self._key("acct", account), self.limits.account_window)
            failures = self.counters.incr(self._key("fail", account, src), FAILURE_MEMORY)
            if failures < self.limits.lockout_threshold:
                return None
            level = self.counters.incr(self._key("level", account, src), LEVEL_MEMORY)
            seconds: int = min(self.limits.lockout_seconds * 2 ** min(level - 1, 16),
                          self.limits.lockout_max_seconds)
            self.counters.set(self._key("lock", account, src), seconds)
            self.counters.delete(self._key("fail", account, src))
            return seconds

    def succeeded(self, username: str, source: str | None) -> None:
        src = source or "-"
        account = self._account(username)
        with _unavailable_on_error():
            self.counters.delete(self._key("fail", account, src), self._key("level", account, src))
            self.counters.set(self._key("known", account, src), self.limits.known_source_ttl)

    def release(self, username: str) -> None:
        """End every lock and count of the account (a password reset)."""
        account = self._account(username)
        with _unavailable_on_error():
            self.counters.delete(self._key("acct", account))
            for kind in ("lock", "fail", "level"):
                self.counters.delete_prefix(self._key(kind, account, ""))

    def _known(self, username: str, src: str) -> bool:
        return self.counters.ttl(self._key("known", self._account(username), src)) > 0

    def _wait(self, key: str) -> int:
        return max(self.counters.ttl(key), 1)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @staticmethod
    def _account(username: str) -> str:
        # A digest: the name is the caller's text, and must not shape the key space.
        return hashlib.sha256(username.encode()).hexdigest()[:32]


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    """Redis down: refuse logins (503) rather than let them through unthrottled."""
    try:
        yield
    except redis.RedisError as exc:
        raise Unavailable("登录服务暂不可用，请稍后再试") from exc


class RedisCounters:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def incr(self, key: str, ttl: int) -> int:
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, ttl, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def ttl(self, key: str) -> int:
        left = int(self.client.ttl(key))
        return max(left, 0)

    def get(self, key: str) -> int:
        value = self.client.get(key)
        return int(value) if value is not None else 0

    def set(self, key: str, ttl: int) -> None:
        self.client.set(key, 1, ex=ttl)

    def delete(self, *keys: str) -> None:
        self.client.delete(*keys)

    def delete_prefix(self, prefix: str) -> None:
        keys = list(self.client.scan_iter(match=_glob_escape(prefix) + "*", count=500))
        if keys:
            self.client.delete(*keys)


class MemoryCounters:
    """The demo's stand-in: one process, forgotten on restart."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            value, expires = self._live(key) or (0, time.monotonic() + ttl)
            self._values[key] = (value + 1, expires)
            return value + 1

    def ttl(self, key: str) -> int:
        with self._lock:
            live = self._live(key)
            return max(int(live[1] - time.monotonic() + 0.999), 1) if live else 0

    def get(self, key: str) -> int:
        with self._lock:
            live = self._live(key)
            return live[0] if live else 0

    def set(self, key: str, ttl: int) -> None:
        with self._lock:
            self._values[key] = (1, time.monotonic() + ttl)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)

    def delete_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._values if k.startswith(prefix)]:
                del self._values[key]

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._values.get(key)
        if entry is None or entry[1] <= time.monotonic():
            self._values.pop(key, None)
            return None
        return entry


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def from_settings(settings: CloudSettings) -> LoginThrottle:
    counters: Counters
    if settings.redis_url:
        counters = RedisCounters(settings.redis_url)
    else:
        # Each process would count on its own: a limit of N becomes N per worker.
        log.warning("login_limits_in_process", hint="set ANCHANG_CLOUD_REDIS_URL")
        counters = MemoryCounters()
    return LoginThrottle(counters, Limits.of(settings), settings.redis_prefix)
