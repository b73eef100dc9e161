"""What must hold at every moment of a chaos run, sampled all along (the edge first, then
the cloud: the cloud's positions only grow, so an edge value above the cloud's read after
it is a real violation): the edge never releases above the cloud's ack, its outbox is
exactly the unacked tail, its down-feed cursor is never ahead of the cloud's feed.

The samples also make a timeline, from which stalls are read: the up-stream or the
down-feed not moving although the other end is ahead.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from dataclasses import dataclass, field

from tests.chaos.stack import Stack

INTERVAL_SECONDS = 0.5
STALL_SECONDS = 20.0  # no progress this long, with work waiting, is a stall


@dataclass(frozen=True)
class Sample:
    at: float  # seconds after the run started
    head: int  # the edge's last seq
    acked: int  # the edge's stored ack
    applied: int  # the cloud's last_applied_seq
    cursor: int  # the edge's down-feed cursor
    feed_head: int  # the cloud's last down-feed offset for the site

    def describe(self) -> str:
        return (f"{self.at:8.1f}s head={self.head} acked={self.acked} applied={self.applied} "
                f"cursor={self.cursor} feed_head={self.feed_head}")


def stalls(samples: list[Sample], min_seconds: float = STALL_SECONDS) -> list[str]:
    """Periods of at least `min_seconds` in which the up-stream (the cloud's applied seq)
    or the down-feed (the edge's cursor) did not move although the other end was ahead."""
    return [*_stalls(samples, "up-stream", "applied", "head", min_seconds),
            *_stalls(samples, "down-feed", "cursor", "feed_head", min_seconds)]


def _stalls(samples: list[Sample], name: str, position: str, target: str,
            min_seconds: float) -> list[str]:
    found: list[str] = []
    start: Sample | None = None  # where the current wait without progress began

    def close(end: Sample, still: bool) -> None:
        if start is not None and end.at - start.at >= min_seconds:
            found.append(f"{name} stalled at {getattr(start, position)} from "
                         f"t={start.at:.1f}s to t={end.at:.1f}s"
                         + (" (still at the end)" if still else ""))

    for sample in samples:
        at, ahead = getattr(sample, position), getattr(sample, target)
        if at >= ahead:  # nothing waiting
            close(sample, still=False)
            start = None
        elif start is None or at != getattr(start, position):  # waiting, or moved on
            close(sample, still=False)
            start = sample
    if start is not None:
        close(samples[-1], still=True)
    return found


@dataclass
class Monitor:
    stack: Stack
    t0: float
    violations: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL_SECONDS):
            with contextlib.suppress(sqlite3.Error):  # the agent may be mid-restart
                self.sample()

    def sample(self) -> None:
        at = time.monotonic() - self.t0
        edge = self.stack.edge_state()
        cloud = self.stack.cloud_state()
        self.samples.append(Sample(round(at, 1), edge.head_seq, edge.last_acked_seq,
                                   cloud.last_applied_seq, edge.down_cursor, cloud.feed_head))
        found = []
        if edge.last_acked_seq > cloud.last_applied_seq:
            found.append(f"edge released up to {edge.last_acked_seq} but the cloud has "
                         f"applied only {cloud.last_applied_seq}")
        if edge.outbox_seqs != tuple(range(edge.last_acked_seq + 1, edge.head_seq + 1)):
            first_last = (edge.outbox_seqs[:1], edge.outbox_seqs[-1:])
            found.append(f"outbox is not the unacked tail ({edge.last_acked_seq}, "
                         f"{edge.head_seq}]: {len(edge.outbox_seqs)} rows, first/last "
                         f"{first_last}")
        if edge.down_cursor > cloud.feed_head:
            found.append(f"edge down cursor {edge.down_cursor} ahead of the cloud's feed "
                         f"head {cloud.feed_head}")
        self.violations += [f"t={at:.1f}s {v}" for v in found]
