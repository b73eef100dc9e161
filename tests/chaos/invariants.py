"""The invariants of /shared/domain/sync-faults.md, checked after a chaos run against
the edge's SQLite database, the cloud's PostgreSQL and the load's history.

1 no_loss          every event the edge committed (its 2xx answers, and every row of its
                   own database) is in PostgreSQL and took effect (no rejected outcome);
                   "lost_but_queued" counts the missing ones the edge still holds (stuck,
                   not destroyed)
2 no_double_effect one sync_event per (site, seq) and per event id, one visit per visit
                   id and per seq, nothing the edge never wrote; customer visit counts
                   equal a replay of the visits
3 gapless_prefix   the cloud's last_applied_seq is the edge's last seq, sync_event covers
                   1…head exactly, nothing held, no gap open
4 release_bound    the edge never released above the cloud's ack (sampled all along, and
                   at the end: its outbox is empty and its ack is the cloud's position)
5 down_feed        the edge's cursor is the cloud's feed head, never ahead of it; the
                   cloud's acked cursor is not ahead of the edge; every customer the edge
                   registered is in its cache with the cloud's current visit count
6 liveness         after the faults stop, all of this within the bound (60 s)
7 event_time       the recorded moment of a visit is the edge's (no correction) when the
                   edge clock was right all along; in any case never in the future
8 kiosk            the kiosk answered every request in the end, never with a 5xx
"""

from __future__ import annotations

import os
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.sync.models import SyncEvent
from tests.chaos.load import History
from tests.chaos.monitor import Monitor, Sample, stalls
from tests.chaos.schedule import SEED_ENV, Schedule

if TYPE_CHECKING:
    from tests.chaos.nemesis import Fired
    from tests.chaos.stack import Stack

INVARIANTS = ("no_loss", "no_double_effect", "gapless_prefix", "release_bound", "down_feed",
              "liveness", "event_time", "kiosk")
FUTURE_TOLERANCE = timedelta(seconds=30)  # the protocol's SKEW_TOLERANCE
SHOWN_PER_INVARIANT = 12
HISTORY_LINES_SHOWN = 800
HISTORY_DIR = Path(__file__).resolve().parents[2] / "build" / "chaos"


def _uuid(value: object) -> str:
    return str(uuid.UUID(str(value)))


@dataclass
class Report:
    seed: int
    schedule: Schedule
    fired: list[Fired]
    history: History
    proxy_stats: Counter[tuple[str, str, str]]
    timeline: list[Sample]
    violations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    measures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    def broken(self) -> list[str]:
        return [name for name in INVARIANTS if self.violations.get(name)]

    def add(self, invariant: str, problem: str) -> None:
        self.violations[invariant].append(problem)

    def fault_counts(self) -> Counter[str]:
        return Counter(f.fault.kind for f in self.fired)

    def proxy_actions(self) -> Counter[str]:
        """Frames acted on, by action and type (forwarded frames left out)."""
        acted: Counter[str] = Counter()
        for (direction, name, action), n in self.proxy_stats.items():
            if action != "forwarded":
                acted[f"{action} {name} {direction}"] += n
        return acted

    def describe(self, *, history: bool = True) -> str:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0] or "<the test>"
        lines = [f"chaos run, seed {self.seed} — replay: {SEED_ENV}={self.seed} pytest "
                 f"'{test}'",
                 "measures: " + ", ".join(f"{k}={v}" for k, v in self.measures.items())]
        for name in INVARIANTS:
            problems = self.violations.get(name, [])
            lines.append(f"  {name:<17} {'ok' if not problems else 'BROKEN'}")
            lines += [f"      {p}" for p in problems[:SHOWN_PER_INVARIANT]]
            if len(problems) > SHOWN_PER_INVARIANT:
                lines.append(f"      … {len(problems) - SHOWN_PER_INVARIANT} more")
        if found := stalls(self.timeline):
            lines.append("stalls (no progress for ≥ 20 s with work waiting):")
            lines += [f"  {stall}" for stall in found]
        lines.append("faults (as fired):")
        lines += [f"  {f.describe()}" for f in self.fired]
        lines += [f"  not fired: {f.describe()}" for f in self.schedule.faults[len(self.fired):]]
        lines.append("proxy actions: " + ", ".join(
            f"{k}: {n}" for k, n in sorted(self.proxy_actions().items())))
        if history:
            text = self.history.describe()
            HISTORY_DIR.mkdir(parents=True, exist_ok=True)
            saved = HISTORY_DIR / f"history-{self.seed}.txt"
            timeline = "\n".join(s.describe() for s in self.timeline)
            saved.write_text(f"{text}\n\ntimeline (monitor samples):\n{timeline}\n")
            shown = text.splitlines()
            lines.append(f"history (2xx answers of the edge; all of it in {saved}):")
            lines += shown[:HISTORY_LINES_SHOWN]
            if len(shown) > HISTORY_LINES_SHOWN:
                lines.append(f"… {len(shown) - HISTORY_LINES_SHOWN} more lines")
        return "\n".join(lines)


def _edge_facts(stack: Stack) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """visit id → seq, follow-up id → seq, and cache key (project:bidx) → visit id."""
    visits, customers = {}, {}
    for vid, seq, project_id, bidx in stack.edge_rows(
            "SELECT id, seq, project_id, phone_bidx FROM visit"):
        visits[_uuid(vid)] = int(str(seq))
        customers[f"{project_id}:{bidx}"] = _uuid(vid)
    follow_ups = {_uuid(fid): int(str(seq))
                  for fid, seq in stack.edge_rows("SELECT id, seq FROM follow_up")}
    return visits, follow_ups, customers


def check(stack: Stack, *, schedule: Schedule, history: History, fired: list[Fired],
          monitor: Monitor, convergence_seconds: float | None, bound: float) -> Report:
    report = Report(schedule.seed, schedule, fired, history, Counter(stack.proxy.stats),
                    monitor.samples)
    site_id = stack.site.site_id
    edge = stack.edge_state()
    cloud = stack.cloud_state()
    edge_visits, edge_follow_ups, edge_customers = _edge_facts(stack)
    with Session(stack.engine) as s:
        visits = s.exec(select(Visit).where(Visit.site_id == site_id)).all()
        follow_ups = set(s.exec(select(FollowUp.id).where(FollowUp.site_id == site_id)).all())
        events = s.exec(select(SyncEvent).where(SyncEvent.site_id == site_id)).all()
        projects = select(Project.id).where(Project.site_id == site_id)
        customers = {c.id: c for c in s.exec(
            select(Customer).where(col(Customer.project_id).in_(projects))).all()}
        per_customer = dict(s.exec(
            select(Visit.customer_id, func.count()).where(Visit.site_id == site_id)
            .group_by(col(Visit.customer_id))).all())
    cloud_visits = {v.id: v for v in visits}

    # 1 no loss
    lost, still_queued = 0, 0
    outbox = set(edge.outbox_seqs)
    for c in history.committed:
        known = edge_visits if c.kind == "visit" else edge_follow_ups
        if c.id not in known:
            report.add("no_loss", f"{c.kind} {c.id} (seq {c.seq}) answered 2xx, not in the "
                                  "edge's database")
    for kind, facts, present in (("visit", edge_visits, set(cloud_visits)),
                                 ("follow_up", edge_follow_ups, follow_ups)):
        for fact_id, seq in sorted(facts.items(), key=lambda kv: kv[1]):
            if fact_id not in present:
                lost += 1
                still_queued += seq in outbox
                report.add("no_loss", f"{kind} {fact_id} seq {seq} committed on the edge, "
                                      "not in PostgreSQL"
                                      + (" (still in its outbox)" if seq in outbox else ""))
    for event in events:
        if event.outcome == "rejected":
            report.add("no_loss", f"seq {event.seq} {event.type} rejected: {event.detail}")

    # 2 no double effect
    seqs = Counter(e.seq for e in events)
    ids = Counter(e.event_id for e in events)
    visit_seqs = Counter(v.event_seq for v in visits)
    extra = (set(cloud_visits) - set(edge_visits)) | (follow_ups - set(edge_follow_ups))
    doubled = [f"seq {q} applied {n}×" for q, n in seqs.items() if n > 1]
    doubled += [f"event {i} recorded {n}×" for i, n in ids.items() if n > 1]
    doubled += [f"{n} visits carry seq {q}" for q, n in visit_seqs.items() if n > 1]
    doubled += [f"{x} in PostgreSQL, never written by the edge" for x in sorted(extra)]
    doubled += [f"customer {cid} counts {c.visit_count} visits, has {per_customer.get(cid, 0)}"
                for cid, c in customers.items() if cid is not None
                and c.visit_count != per_customer.get(cid, 0)]
    for problem in doubled:
        report.add("no_double_effect", problem)

    # 3 gapless prefix
    if cloud.last_applied_seq != edge.head_seq:
        report.add("gapless_prefix", f"cloud applied up to {cloud.last_applied_seq}, the "
                                     f"edge's last seq is {edge.head_seq}")
    missing = sorted(set(range(1, edge.head_seq + 1)) - set(seqs))
    if missing:
        report.add("gapless_prefix", f"{len(missing)} seqs without a sync_event, first "
                                     f"{missing[:10]}")
    if cloud.pending:
        report.add("gapless_prefix", f"{cloud.pending} events still held above a hole")
    elif cloud.gap_open:
        report.add("gapless_prefix", "phantom gap: gap_since set with nothing held (every "
                                     "status is answered with a resend request)")
    edge_seqs = set(edge_visits.values()) | set(edge_follow_ups.values())
    if edge_seqs != set(range(1, edge.head_seq + 1)):
        report.add("gapless_prefix", "the edge's own facts do not cover 1…head: "
                                     f"{len(edge_seqs)} facts, head {edge.head_seq}")

    # 4 the edge never releases above the cloud's ack
    for v in monitor.violations:
        report.add("release_bound" if "down cursor" not in v else "down_feed", v)
    if edge.last_acked_seq > cloud.last_applied_seq:
        report.add("release_bound", f"edge acked {edge.last_acked_seq} > cloud "
                                    f"{cloud.last_applied_seq}")
    if edge.outbox_seqs or edge.last_acked_seq != edge.head_seq:
        report.add("release_bound", f"{len(edge.outbox_seqs)} outbox rows left, edge ack "
                                    f"{edge.last_acked_seq} of head {edge.head_seq}")

    # 5 down-feed
    if edge.down_cursor != cloud.feed_head:
        report.add("down_feed", f"edge cursor {edge.down_cursor}, cloud feed head "
                                f"{cloud.feed_head}")
    if cloud.down_cursor_acked > edge.down_cursor:
        report.add("down_feed", f"cloud took cursor {cloud.down_cursor_acked} as acked, "
                                f"the edge stored {edge.down_cursor}")
    cache = {f"{p}:{b}": (n, ref) for p, b, n, ref in stack.edge_rows(
        "SELECT project_id, phone_bidx, visit_count, customer_ref FROM customer_cache")}
    by_visit = {v.id: v.customer_id for v in visits}
    stale = 0
    for key, visit_id in edge_customers.items():
        if visit_id not in by_visit:
            continue  # not in the cloud at all: a loss, reported above
        entry = cache.get(key)
        customer_id = by_visit.get(visit_id)
        expected = customers[customer_id].visit_count if customer_id in customers else None
        if entry is None or expected is None or entry != (expected, str(customer_id)):
            stale += 1
            if stale <= SHOWN_PER_INVARIANT:
                report.add("down_feed", f"customer of visit seq {edge_visits[visit_id]}: "
                                        f"cache {entry}, cloud ({expected}, {customer_id})")
    if stale > SHOWN_PER_INVARIANT:
        report.add("down_feed", f"{stale} customers stale or missing in the edge's cache")

    # 6 liveness
    if convergence_seconds is None:
        report.add("liveness", f"not converged within {bound:.0f}s after the faults stopped")

    # 7 event time
    clock_faults = any(f.fault.kind == "edge_clock" for f in fired)
    for visit in visits:
        when, raw = visit.occurred_at, visit.edge_occurred_at
        if when > visit.created_at + FUTURE_TOLERANCE:
            report.add("event_time", f"visit seq {visit.event_seq} recorded in the future: "
                                     f"{when.isoformat()} (applied {visit.created_at})")
        elif not clock_faults and (visit.time_corrected or when != raw):
            report.add("event_time", f"visit seq {visit.event_seq} moved by "
                                     f"{(when - raw).total_seconds():+.1f}s though the edge "
                                     "clock was right")

    # 8 kiosk
    for error in history.server_errors:
        report.add("kiosk", f"5xx: {error}")
    for abandoned in history.given_up:
        report.add("kiosk", f"never answered 2xx: {abandoned}")

    report.measures = {
        "events": len(history.committed),
        "edge_seqs": edge.head_seq,
        "faults": len(fired),
        "lost": lost,
        "lost_but_queued": still_queued,
        "duplicated_in_effect": len(doubled),
        "convergence_s": None if convergence_seconds is None else round(convergence_seconds, 1),
    }
    return report
