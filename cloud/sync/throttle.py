"""Bounding what a flood of refused messages can write.

Every refused message is counted in metrics, but only the first few per site and reason
in a window become rejection and audit rows: a misconfigured or hostile sender must not
be able to fill the database or the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

log = structlog.get_logger()

RECORDS_PER_WINDOW = 20
WINDOW_SECONDS = 60.0


class RejectionThrottle:
    def __init__(self, per_window: int = RECORDS_PER_WINDOW, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._per_window = per_window
        self._window = window
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def allow(self, site_id: str | None, reason: str) -> bool:
        key = (site_id or "-", reason)
        now = self._clock()
        started, count = self._seen.get(key, (now, 0))
        if now - started >= self._window:
            if count > self._per_window:
                log.warning("sync.rejections_suppressed", site=key[0], reason=reason,
                            suppressed=count - self._per_window)
            started, count = now, 0
        self._seen[key] = (started, count + 1)
        return count < self._per_window
