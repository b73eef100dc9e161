"""Audited commits per second on the real PostgreSQL, one chain against shards (ADR 0059).

32 threads, each with its own connection, commit transactions of one audited read (a
customer search's shape: a read, one audit row) as fast as they can; the same fixed
number of transactions with AUDIT_CHAIN_SHARDS at 1 (the single chain of before), 4 and
16, alternating, three rounds each; medians reported. Run alone:
`pytest tests/bench/test_audit_shard_bench.py -m bench -s`.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.audit.chain import verify_chain
from cloud.db import make_engine
from tests.conftest import truncate_all

pytestmark = pytest.mark.bench

THREADS = 32
PER_THREAD = 150
ROUNDS = 3
SHARDS = (1, 4, 16)


@pytest.fixture
def wide_engine(pg_url: str, engine: Engine) -> Iterator[Engine]:
    """A pool with a connection per thread: the threads wait on the chain, not the pool."""
    wide = make_engine(pg_url, pool_size=THREADS)
    yield wide
    wide.dispose()
    truncate_all(engine)


def _round(engine: Engine, shards: int) -> float:
    """Audited commits per second of THREADS × PER_THREAD transactions."""
    audit_service.configure(shards=shards)
    barrier = threading.Barrier(THREADS + 1)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with Session(engine) as session:
                barrier.wait()
                for i in range(PER_THREAD):
                    session.connection().execute(text("SELECT count(*) FROM app_user"))
                    audit_service.record(session, action="customer.search", actor=f"u{n}",
                                         object_type="customer", detail={"i": i})
                    session.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    assert errors == []
    return THREADS * PER_THREAD / elapsed


def test_audited_commits_per_second_by_shard_count(wide_engine: Engine) -> None:
    rates: dict[int, list[float]] = {n: [] for n in SHARDS}
    try:
        _round(wide_engine, 16)  # warm the pool and the caches
        for _ in range(ROUNDS):
            for shards in SHARDS:
                rates[shards].append(_round(wide_engine, shards))
    finally:
        audit_service.configure(shards=16)
    with Session(wide_engine) as session:
        report = verify_chain(session, keys={})
    assert report.ok and report.checked == THREADS * PER_THREAD * (1 + ROUNDS * len(SHARDS))
    medians = {n: statistics.median(r) for n, r in rates.items()}
    for shards, rate in medians.items():
        print(f"shards={shards:2d}: {rate:7.0f} audited commits/s "
              f"(rounds {', '.join(f'{r:.0f}' for r in rates[shards])})")
    assert medians[16] > medians[1]
