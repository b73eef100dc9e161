"""The system under test: Mosquitto (generated ACL, persistence on), the chaos proxy in
front of it on the edge's side, the real edge agent process behind the proxy and the
cloud sync consumer process on the broker directly, over the test's PostgreSQL."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.identity import service as identity_service
from cloud.settings import CloudSettings
from cloud.sync.models import DownFeed, SiteLink, SyncPending
from tests.chaos.proxy import ChaosProxy
from tests.integration.conftest import ProvisionedSite
from tests.integration.consumer_process import ConsumerProcess
from tests.integration.edge_process import EdgeProcess
from tests.integration.mosquitto import Mosquitto


def make_consultant(engine: Engine, site_id: str) -> int:
    """A consultant of the site: the visits' receiving consultant, the follow-ups' author."""
    with Session(engine) as s:
        user = identity_service.create_user(
            s, username="chaos-consultant", password="Wl#2026-consultant", display_name="王磊",
            roles=["consultant"], site_ids=[site_id], must_change_password=False,
            actor="test")
        s.commit()
        assert user.id is not None
        return user.id


@dataclass(frozen=True)
class EdgeState:
    head_seq: int
    last_acked_seq: int
    down_cursor: int
    outbox_seqs: tuple[int, ...]


@dataclass(frozen=True)
class CloudState:
    last_applied_seq: int
    pending: int
    gap_open: bool
    down_cursor_acked: int
    feed_head: int  # the site's highest down-feed offset


class Stack:
    def __init__(self, workdir: Path, *, engine: Engine, settings: CloudSettings,
                 broker: Mosquitto, site: ProvisionedSite, seed: int) -> None:
        self.workdir = workdir
        self.seed = seed
        self.engine = engine
        self.broker = broker
        self.site = site
        self.proxy = ChaosProxy(broker.port, seed=seed).start()
        self.edge = EdgeProcess(workdir / "edge", site, self.proxy.port)
        self.consumer = ConsumerProcess(workdir / "consumer", settings, broker.port)
        self.edge_db = workdir / "edge" / "edge.db"
        self.edge_clock: str | None = None  # the faketime offset the edge runs with
        self.supervisor_wipes = 0  # broker restarts that needed a clean data directory

    def start(self, consultant_id: int) -> None:
        """Consumer and edge up, and the edge knows the consultant (the down-feed works)."""
        self.start_consumer()
        self.start_edge()
        self.edge.wait_consultant(consultant_id, timeout=30)

    def close(self) -> None:
        for stop in (self.edge.stop, self.consumer.stop, self.proxy.stop):
            with contextlib.suppress(Exception):  # clean up all, whatever state a run left
                stop()

    # ----- the edge agent -----

    @property
    def edge_running(self) -> bool:
        return self.edge.proc is not None and self.edge.proc.poll() is None

    def start_edge(self, *, crash_at: str | None = None, clock: str | None = None) -> bool:
        """Start the agent; False when it killed itself at `crash_at` while starting."""
        self.edge_clock = clock
        try:
            self.edge.start(crash_at=crash_at, clock_offset=clock)
        except RuntimeError:
            if crash_at and self.edge.proc is not None and self.edge.proc.poll() == -9:
                self.edge.proc = None
                return False
            raise
        return True

    def kill_edge(self) -> None:
        self.edge.kill()

    # ----- the broker -----

    def kill_broker(self, sig: int = signal.SIGKILL) -> None:
        self.broker.stop(sig)

    def wipe_broker_store(self, mode: str) -> None:
        """Damage the persistence file of a stopped broker: delete, truncate, zero-fill."""
        store = self.broker.workdir / "data" / "mosquitto.db"
        if not store.exists():
            return
        size = store.stat().st_size
        if mode == "delete":
            store.unlink()
        elif mode == "truncate":
            with store.open("r+b") as f:
                f.truncate(size // 2)
        else:
            store.write_bytes(b"\0" * size)

    def start_broker(self) -> None:
        """Start the broker; if it refuses its damaged store, start it clean (what its
        supervisor does)."""
        try:
            self.broker.start()
        except RuntimeError:
            for leftover in (self.broker.workdir / "data").iterdir():
                leftover.unlink()
            self.supervisor_wipes += 1
            self.broker.start()

    # ----- the cloud consumer -----

    def start_consumer(self, crash_at: str | None = None) -> None:
        self.consumer.start(crash_at=crash_at, wait=crash_at is None and
                            self.broker.proc is not None)

    # ----- back to normal -----

    def heal(self) -> None:
        """No fault in force: proxy clear, every process up, the edge on the true clock."""
        self.proxy.clear()
        if self.broker.proc is None or self.broker.proc.poll() is not None:
            self.broker.proc = None
            self.start_broker()
        if not self.consumer.running:
            self.start_consumer()
        if not self.edge_running or self.edge_clock is not None:
            self.kill_edge()
            self.start_edge()

    # ----- observation -----

    @contextlib.contextmanager
    def _edge_snapshot(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(f"file:{self.edge_db}?mode=ro", uri=True, timeout=10,
                             isolation_level=None)
        try:
            db.execute("BEGIN")  # one read snapshot for every query
            yield db
        finally:
            db.close()

    def edge_state(self) -> EdgeState:
        with self._edge_snapshot() as db:
            next_seq, acked, cursor = db.execute(
                "SELECT next_seq, last_acked_seq, down_cursor FROM sync_state").fetchone()
            # The rows still waiting for the cloud (acked rows stay for the retention window).
            outbox = tuple(s for (s,) in db.execute(
                "SELECT seq FROM outbox WHERE acked_at IS NULL ORDER BY seq"))
        return EdgeState(next_seq - 1, acked, cursor, outbox)

    def edge_rows(self, sql: str) -> list[tuple[object, ...]]:
        with self._edge_snapshot() as db:
            return db.execute(sql).fetchall()

    def cloud_state(self) -> CloudState:
        site_id = self.site.site_id
        # One snapshot: read committed would let a batch commit between the statements.
        with Session(self.engine.execution_options(isolation_level="REPEATABLE READ")) as s:
            link = s.get(SiteLink, site_id)
            assert link is not None
            pending = s.exec(select(func.count()).select_from(SyncPending)
                             .where(SyncPending.site_id == site_id)).one()
            feed_head = s.exec(select(func.max(DownFeed.offset))
                               .where(DownFeed.site_id == site_id)).one()
        return CloudState(link.last_applied_seq, int(pending), link.gap_since is not None,
                          link.down_cursor_acked, int(feed_head or 0))

    def converged(self) -> bool:
        """Everything the edge wrote is applied and acked, and the edge has the whole feed."""
        edge, cloud = self.edge_state(), self.cloud_state()
        return (not edge.outbox_seqs and edge.last_acked_seq == edge.head_seq
                == cloud.last_applied_seq and cloud.pending == 0
                and edge.down_cursor == cloud.feed_head)

    def wait_converged(self, bound: float) -> float | None:
        """Seconds until converged, or None if not within `bound`."""
        started = time.monotonic()
        while time.monotonic() - started < bound:
            with contextlib.suppress(sqlite3.Error):
                if self.converged():
                    return time.monotonic() - started
            time.sleep(0.25)
        return None
