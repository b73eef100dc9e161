"""How the API is served (issue #24; docs/operations.md "Sizing the API"): worker count,
keep-alive, and the connection budget every worker takes from PostgreSQL."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import text

from cloud.db import SPARE_CONNECTIONS, make_engine
from cloud.settings import CloudSettings

# Longer than the keep-alive of nginx's upstream connections (60 s in the shipped config):
# the proxy, not the API, should be the one to close an idle connection, or it may send
# a request into a connection the API is closing.
KEEP_ALIVE_SECONDS = 75
# Pending connections the kernel holds while every worker is busy (uvicorn's is 2048).
BACKLOG = 2048
# The principal cache's LISTEN connection.
LISTENER_CONNECTIONS = 1


def default_workers() -> int:
    """One per core: each worker is one Python process doing CPU work on one core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def connections_per_worker(settings: CloudSettings) -> int:
    return settings.db_pool_size + SPARE_CONNECTIONS + LISTENER_CONNECTIONS


@dataclass(frozen=True)
class Budget:
    needed: int  # at most, by all the workers
    available: int  # max_connections less the superuser reserve

    @property
    def fits(self) -> bool:
        return self.needed <= self.available


def connection_budget(settings: CloudSettings, workers: int) -> Budget | None:
    """The workers' connections against the server's limit; None off PostgreSQL."""
    engine = make_engine(settings.database_url, pool_size=1, wait_seconds=5)
    try:
        if engine.dialect.name != "postgresql":
            return None
        with engine.connect() as conn:
            limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(conn.execute(text("SHOW superuser_reserved_connections"))
                           .scalar_one())
    finally:
        engine.dispose()
    return Budget(workers * connections_per_worker(settings), limit - reserved)
