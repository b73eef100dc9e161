"""Child process of the chaos and drain tests: `python -m tests.integration.consumer_child`
runs the cloud sync consumer exactly as `anchang sync run` does (settings from
ANCHANG_CLOUD_*), with the consumer's crash points for fault tests.

The consumer has no crash hook of its own, so this child installs them by wrapping the
functions it calls: `ANCHANG_CRASH_AT=consumer_before_commit` kills the process (SIGKILL)
after a batch of events has been applied but before its transaction commits;
`consumer_after_commit_before_ack` after the commit, before the ack is published.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from cloud import cli
from cloud.sync import service
from cloud.sync.consumer import SyncConsumer
from shared.envelope import Ack, Signed

CRASH_ENV = "ANCHANG_CRASH_AT"
CRASH_POINTS = frozenset({"consumer_before_commit", "consumer_after_commit_before_ack"})


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install_crash_point(point: str) -> None:
    if point not in CRASH_POINTS:
        raise SystemExit(f"unknown consumer crash point {point!r}")
    apply_batch = service.apply_batch
    publish = SyncConsumer._publish
    applied = False

    def apply_then_maybe_die(*args: Any, **kwargs: Any) -> service.ApplyResult:
        nonlocal applied
        result = apply_batch(*args, **kwargs)
        if result.applied and point == "consumer_before_commit":
            _die()  # inside the transaction: nothing of the batch commits
        applied = applied or bool(result.applied)
        return result

    def publish_or_die(self: SyncConsumer, topic: str, message: Signed) -> None:
        if applied and isinstance(message, Ack):
            _die()  # the first ack after a committed apply never leaves
        publish(self, topic, message)

    service.apply_batch = apply_then_maybe_die  # type: ignore[assignment]
    SyncConsumer._publish = publish_or_die  # type: ignore[method-assign]


def main() -> None:
    point = os.environ.get(CRASH_ENV)
    if point:
        install_crash_point(point)
    cli.sync_run(client_id=None, metrics_port=None)


if __name__ == "__main__":
    main()
