"""Crash points for fault tests: `ANCHANG_CRASH_AT=<name>` kills the process there (SIGKILL).

Points: in_outbox_tx, after_outbox_commit, after_publish, after_ack_before_release,
after_down_apply_before_cursor (the down-feed applies items and stores the cursor in one
transaction, so this point sits right after that commit).
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "ANCHANG_CRASH_AT"

CRASH_POINTS = frozenset(
    {
        "in_outbox_tx",
        "after_outbox_commit",
        "after_publish",
        "after_ack_before_release",
        "after_down_apply_before_cursor",
    }
)


def crash_point(name: str) -> None:
    """Kill this process at once if the environment names this point (fault tests only)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
