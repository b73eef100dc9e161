"""Per-assignee progress and the leaderboard of prospecting tasks, from the tallies.

The leaderboard orders by count (more first), then by who reached that count first (the
time of the last counted fact; none counted sorts last), then by the assignee row's id:
every tie is broken the same way on every read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from cloud.channel.models import Agency, Broker
from cloud.channel.prospecting_models import ProspectingAssignee, ProspectingTask
from cloud.channel.prospecting_progress import Tally, assignee_tallies
from cloud.channel.prospecting_schemas import AssigneeProgress, LeaderRow
from cloud.identity.models import User
from shared.timeutil import as_utc

_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Board:
    """One task's assignees (in the order they were assigned) and its ranking."""

    assignees: list[AssigneeProgress]
    leaderboard: list[LeaderRow]
    rows: list[ProspectingAssignee]
    total_count: int
    total_target: int

    @property
    def rate(self) -> float:
        return rate(self.total_count, self.total_target)


def rate(count: int, target: int) -> float:
    return round(count / target, 4) if target else 0.0


def boards(session: Session, tasks: Sequence[ProspectingTask]) -> dict[int, Board]:
    """Every task's board, in a fixed number of queries whatever the number of tasks."""
    ids = [t.id or 0 for t in tasks]
    rows = list(session.exec(select(ProspectingAssignee).where(
        col(ProspectingAssignee.task_id).in_(ids)).order_by(col(ProspectingAssignee.id))).all()
    ) if ids else []
    tallies = assignee_tallies(session, tasks) if rows else {}
    names = _names(session, rows)
    by_task: dict[int, list[ProspectingAssignee]] = defaultdict(list)
    for row in rows:
        by_task[row.task_id].append(row)
    return {task_id: _board(by_task.get(task_id, []), tallies, names) for task_id in ids}


def _board(rows: list[ProspectingAssignee], tallies: dict[int, Tally],
           names: dict[tuple[str, int], tuple[str, str | None]]) -> Board:
    progress: list[AssigneeProgress] = []
    order: list[tuple[int, datetime, int, AssigneeProgress]] = []
    for row in rows:
        kind = "broker" if row.broker_id is not None else "agency"
        key = row.broker_id if row.broker_id is not None else row.agency_id or 0
        tally = tallies.get(row.id or 0, Tally(0, None))
        name, agency = names.get((kind, key), ("", None))
        item = AssigneeProgress(kind=kind, id=key, name=name, agency_name=agency,
                                target=row.target, count=tally.count,
                                rate=rate(tally.count, row.target))
        progress.append(item)
        reached = as_utc(tally.last_at) if tally.last_at is not None else _NEVER
        order.append((-tally.count, reached, row.id or 0, item))
    order.sort(key=lambda entry: entry[:3])
    board = [LeaderRow(**item.model_dump(), rank=rank)
             for rank, (_, _, _, item) in enumerate(order, start=1)]
    return Board(progress, board, rows, sum(p.count for p in progress),
                 sum(p.target for p in progress))


def _names(session: Session, rows: Sequence[ProspectingAssignee]
           ) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(kind, id) → (name, agency name): agencies by name, brokers by account name."""
    agency_ids = {r.agency_id for r in rows if r.agency_id is not None}
    broker_ids = {r.broker_id for r in rows if r.broker_id is not None}
    names: dict[tuple[str, int], tuple[str, str | None]] = {}
    brokers = session.exec(
        select(Broker.id, User.display_name, Broker.agency_id, Broker.phone_masked)
        .join(User, col(User.id) == col(Broker.user_id))
        .where(col(Broker.id).in_(broker_ids))).all() if broker_ids else []
    agency_ids |= {a for _, _, a, _ in brokers if a is not None}
    agencies = {a.id: a.name for a in session.exec(select(Agency).where(
        col(Agency.id).in_(agency_ids))).all()} if agency_ids else {}
    for agency_id, name in agencies.items():
        names[("agency", agency_id or 0)] = (name, None)
    for broker_id, display, agency_id, masked in brokers:
        names[("broker", broker_id or 0)] = (
            display or masked, agencies.get(agency_id) if agency_id is not None else None)
    return names
