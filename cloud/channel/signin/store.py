"""The short-lived keys of sign-in — SMS codes, their tries and cooldowns, used states and
tickets — in Redis, shared by every API process (in-process without redis_url: the demo).
Redis down: sign-in answers 503 rather than run without its limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import redis

from cloud.settings import CloudSettings
from shared.errors import Unavailable


class Store(Protocol):
    def put(self, key: str, value: str, ttl: int) -> None: ...

    def get(self, key: str) -> str | None: ...

    def take(self, key: str) -> bool:
        """Delete; True only for the one caller that deleted it (single use)."""

    def pop(self, key: str) -> str | None:
        """Get and delete at once: one caller gets the value."""

    def claim(self, key: str, ttl: int) -> bool:
        """Set if absent; True for the first caller only."""

    def incr(self, key: str, ttl: int) -> int:
        """Add one; a new key expires after `ttl`."""

    def ttl(self, key: str) -> int:
        """Seconds left, 0 when absent."""


class RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix + "signin:"

    def put(self, key: str, value: str, ttl: int) -> None:
        self.client.set(self.prefix + key, value, ex=ttl)

    def get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else None

    def take(self, key: str) -> bool:
        return int(self.client.delete(self.prefix + key)) == 1

    def pop(self, key: str) -> str | None:
        value = self.client.getdel(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else None

    def claim(self, key: str, ttl: int) -> bool:
        return bool(self.client.set(self.prefix + key, 1, ex=ttl, nx=True))

    def incr(self, key: str, ttl: int) -> int:
        pipe = self.client.pipeline()
        pipe.incr(self.prefix + key)
        pipe.expire(self.prefix + key, ttl, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def ttl(self, key: str) -> int:
        return max(int(self.client.ttl(self.prefix + key)), 0)


class MemoryStore:
    """The demo's stand-in: one process, forgotten on restart."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, value: str, ttl: int) -> None:
        with self._lock:
            self._values[key] = (value, time.monotonic() + ttl)

    def get(self, key: str) -> str | None:
        with self._lock:
            live = self._live(key)
            return live[0] if live else None

    def take(self, key: str) -> bool:
        with self._lock:
            return self._live(key) is not None and self._values.pop(key, None) is not None

    def pop(self, key: str) -> str | None:
        with self._lock:
            live = self._live(key)
            self._values.pop(key, None)
            return live[0] if live else None

    def claim(self, key: str, ttl: int) -> bool:
        with self._lock:
            if self._live(key):
                return False
            self._values[key] = ("1", time.monotonic() + ttl)
            return True

    def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            value, expires = self._live(key) or ("0", time.monotonic() + ttl)
            count = int(value) + 1
            self._values[key] = (str(count), expires)
            return count

    def ttl(self, key: str) -> int:
        with self._lock:
            live = self._live(key)
            return max(int(live[1] - time.monotonic() + 0.999), 1) if live else 0

    def _live(self, key: str) -> tuple[str, float] | None:
        entry = self._values.get(key)
        if entry is None or entry[1] <= time.monotonic():
            self._values.pop(key, None)
            return None
        return entry


@contextmanager
def unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise Unavailable("登录服务暂不可用，请稍后再试") from exc


def from_settings(settings: CloudSettings) -> Store:
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.redis_prefix)
    return MemoryStore()
