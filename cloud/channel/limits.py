"""Per-broker referral rate limit (报备频率限制): a fixed window counted in Redis, so
every API process sees one count (in-process only without redis_url: the demo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from cloud.identity.throttle import Counters, MemoryCounters, RedisCounters
from cloud.settings import CloudSettings
from shared.errors import TooManyRequests, Unavailable


class ReferralRateLimited(TooManyRequests):
    code = "referral_rate_limited"
    title = "报备过于频繁，请稍后再试"


class ReferralLimiter:
    def __init__(self, counters: Counters, *, limit: int, window: int, prefix: str) -> None:
        self.counters = counters
        self.limit = limit
        self.window = window
        self.prefix = prefix

    def admit(self, broker_id: int) -> None:
        """Count one submission; raise ReferralRateLimited past the limit."""
        key = f"{self.prefix}referral:{broker_id}"
        with _unavailable_on_error():
            count = self.counters.incr(key, self.window)
            if count > self.limit:
                raise ReferralRateLimited(retry_after=max(self.counters.ttl(key), 1))


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    # Redis down: refuse referrals (503) rather than let one broker flood the engine.
    try:
        yield
    except redis.RedisError as exc:
        raise Unavailable("报备服务暂不可用，请稍后再试") from exc


def from_settings(settings: CloudSettings) -> ReferralLimiter:
    counters: Counters = (RedisCounters(settings.redis_url) if settings.redis_url
                          else MemoryCounters())
    return ReferralLimiter(counters, limit=settings.referral_limit,
                           window=settings.referral_window_seconds,
                           prefix=settings.redis_prefix)
