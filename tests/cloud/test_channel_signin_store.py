"""The sign-in store behaves alike on Redis (production) and in memory (the demo)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from cloud.channel.signin.store import MemoryStore, RedisStore, Store
from tests.services import REDIS_URL, require


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    require("Redis", "127.0.0.1", 6379)
    found = RedisStore(REDIS_URL, f"anchang-test-{uuid.uuid4().hex[:10]}:")
    yield found
    keys = list(found.client.scan_iter(match=found.prefix + "*"))
    if keys:
        found.client.delete(*keys)


def test_single_use_and_counting(store: Store) -> None:
    assert store.claim("a", 60) is True
    assert store.claim("a", 60) is False
    assert 0 < store.ttl("a") <= 60 and store.ttl("absent") == 0
    store.put("v", "value", 60)
    assert store.get("v") == "value"
    assert store.pop("v") == "value" and store.pop("v") is None
    store.put("t", "x", 60)
    assert store.take("t") is True and store.take("t") is False
    assert [store.incr("n", 60) for _ in range(3)] == [1, 2, 3]


def test_keys_expire(store: Store) -> None:
    store.put("short", "x", 1)
    store.claim("gone", 1)
    time.sleep(1.1)
    assert store.get("short") is None
    assert store.claim("gone", 1) is True
