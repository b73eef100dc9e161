"""Rate limits of the public share page: anyone on the internet may call it, so every
write is counted per source and per visitor of a share (fixed windows in Redis, shared by
every API process; in-process without redis_url: the demo)."""

from __future__ import annotations

import redis

from cloud.identity.throttle import Counters, MemoryCounters, RedisCounters
from cloud.settings import CloudSettings
from shared.errors import TooManyRequests, Unavailable

LEAD_WINDOW_SECONDS = 3600


class ShareRateLimited(TooManyRequests):
    code = "share_rate_limited"
    title = "操作过于频繁，请稍后再试"


class ShareLimiter:
    def __init__(self, counters: Counters, settings: CloudSettings) -> None:
        self.counters = counters
        self.prefix = settings.redis_prefix
        self.window = settings.share_window_seconds
        self.event_limit = settings.share_event_limit
        self.ip_limit = settings.share_ip_limit
        self.lead_ip_limit = settings.lead_ip_limit

    def admit_event(self, ip: str | None, share_id: int, visitor_key: str) -> None:
        """One open or page view; 429 past the source's or the visitor's limit."""
        self._count(f"share:ip:{ip or '-'}", self.ip_limit, self.window)
        self._count(f"share:visitor:{share_id}:{visitor_key}", self.event_limit, self.window)

    def admit_read(self, ip: str | None) -> None:
        self._count(f"share:ip:{ip or '-'}", self.ip_limit, self.window)

    def admit_lead(self, ip: str | None) -> None:
        self._count(f"share:ip:{ip or '-'}", self.ip_limit, self.window)
        self._count(f"share:lead:{ip or '-'}", self.lead_ip_limit, LEAD_WINDOW_SECONDS)

    def _count(self, name: str, limit: int, window: int) -> None:
        key = f"{self.prefix}{name}"
        try:
            count = self.counters.incr(key, window)
            if count > limit:
                raise ShareRateLimited(retry_after=max(self.counters.ttl(key), 1))
        except redis.RedisError as exc:
            # Unmetered, the public page would be an open door: refuse instead.
            raise Unavailable("服务暂不可用，请稍后再试") from exc


def from_settings(settings: CloudSettings) -> ShareLimiter:
    counters: Counters = (RedisCounters(settings.redis_url) if settings.redis_url
                          else MemoryCounters())
    return ShareLimiter(counters, settings)
