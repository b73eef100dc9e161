"""Counting the SQL statements a request sends (issue #24: per-route query budgets)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements sent through `engine` inside the block, in order."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def cache_serving(app: Any, timeout: float = 10.0) -> None:
    """Wait until the app's principal cache serves (on PostgreSQL: its listener is up)."""
    deadline = time.monotonic() + timeout
    while not app.state.principal_cache.serving:
        assert time.monotonic() < deadline, "the principal cache never started serving"
        time.sleep(0.02)
