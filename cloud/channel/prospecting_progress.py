"""Completion of prospecting tasks, counted from the data (never typed in).

One GROUP BY per metric and assignee level covers any number of tasks: every assignee row
is joined to the facts of its task's projects and period, so a list of tasks costs a few
queries, not one per task or per assignee. The period is [starts_at, ends_at): Beijing
midnights, stored UTC.

- referrals: the referrals submitted (created_at) in the period on the task's projects;
- valid_referrals: those not refused (state other than `invalid`, as it stands now: a
  later invalidation or an upheld appeal moves the count);
- visits: guided visits (带看到访) on the task's projects — visits carrying the broker
  (扫码带看 marks them; visits are one per customer and Beijing day);
- invited_brokers: brokers who signed up in the period through the assignee's invites —
  for a broker, those with `invited_by` them; for an agency, those who joined with its
  code and the referrers its brokers invited. Sign-ups belong to no project.

An agency counts what its brokers did for it: a referral by the agency stored on the
referral; a visit by the broker's agency now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from cloud.channel.models import Broker, Referral
from cloud.channel.prospecting_models import (
    ProspectingAssignee,
    ProspectingTask,
    ProspectingTaskProject,
)
from cloud.sales.models import Visit

A, T, TP = ProspectingAssignee, ProspectingTask, ProspectingTaskProject


@dataclass(frozen=True)
class Tally:
    count: int
    # When the last counted fact happened: who reached an equal count first ranks first.
    last_at: datetime | None


def _facts(metric: str, level: str, key: Any) -> tuple[Any, Any, list[Any], list[Any]]:
    """The counted column, its time, the joins and the conditions of one metric, where
    `key` is what the facts are matched against (an assignee's id or a fixed broker)."""
    if metric in ("referrals", "valid_referrals"):
        owner = col(Referral.broker_id) if level == "broker" else col(Referral.agency_id)
        on = [col(Referral.project_id) == col(TP.project_id), owner == key,
              col(Referral.created_at) >= col(T.starts_at),
              col(Referral.created_at) < col(T.ends_at)]
        if metric == "valid_referrals":
            on.append(col(Referral.state) != "invalid")
        return col(Referral.id), col(Referral.created_at), [
            (TP, col(TP.task_id) == col(T.id)), (Referral, and_(*on))], []
    if metric == "visits":
        on = [col(Visit.project_id) == col(TP.project_id),
              col(Visit.occurred_at) >= col(T.starts_at), col(Visit.occurred_at) < col(T.ends_at)]
        joins: list[Any] = [(TP, col(TP.task_id) == col(T.id))]
        if level == "broker":
            joins.append((Visit, and_(*on, col(Visit.broker_id) == key)))
        else:
            guide = aliased(Broker)
            joins.append((guide, col(guide.agency_id) == key))
            joins.append((Visit, and_(*on, col(Visit.broker_id) == col(guide.id))))
        return col(Visit.id), col(Visit.occurred_at), joins, []
    joined = aliased(Broker)
    inviter = aliased(Broker)
    when = [col(joined.created_at) >= col(T.starts_at), col(joined.created_at) < col(T.ends_at)]
    if level == "broker":
        return col(joined.id), col(joined.created_at), [
            (joined, and_(col(joined.invited_by) == key, *when))], []
    return col(joined.id), col(joined.created_at), [
        (joined, and_(*when)),
        (inviter, col(inviter.id) == col(joined.invited_by), True),
    ], [func.coalesce(col(joined.agency_id), col(inviter.agency_id)) == key]


def _run(session: Session, base: Any, metric: str, level: str, key: Any,
         group: Any) -> list[Any]:
    counted, at, joins, where = _facts(metric, level, key)
    query = base.add_columns(func.count(func.distinct(counted)), func.max(at))
    for join in joins:
        target, on, *outer = join
        query = query.join(target, on, isouter=bool(outer))
    return list(session.exec(query.where(*where).group_by(group)).all())


def assignee_tallies(session: Session, tasks: Sequence[ProspectingTask]
                     ) -> dict[int, Tally]:
    """Each assignee row's count in its task's period (keyed by the assignee row's id)."""
    found: dict[int, Tally] = {}
    by_metric: dict[str, list[int]] = {}
    for task in tasks:
        by_metric.setdefault(task.metric, []).append(task.id or 0)
    for metric, ids in by_metric.items():
        for level, owner in (("broker", col(A.broker_id)), ("agency", col(A.agency_id))):
            # SQLAlchemy's select: rows of (id, count, last), not scalars.
            base = (sa_select(col(A.id)).select_from(A)
                    .join(T, col(T.id) == col(A.task_id))
                    .where(col(A.task_id).in_(ids), owner.is_not(None)))
            for assignee_id, count, last_at in _run(session, base, metric, level, owner,
                                                    col(A.id)):
                found[assignee_id] = Tally(count, last_at)
    return found


def broker_tallies(session: Session, tasks: Sequence[ProspectingTask], broker_id: int
                   ) -> dict[int, Tally]:
    """One broker's own count in each task (keyed by task id): their contribution to a
    task their agency is assigned."""
    found: dict[int, Tally] = {}
    by_metric: dict[str, list[int]] = {}
    for task in tasks:
        by_metric.setdefault(task.metric, []).append(task.id or 0)
    for metric, ids in by_metric.items():
        base = sa_select(col(T.id)).select_from(T).where(col(T.id).in_(ids))
        for task_id, count, last_at in _run(session, base, metric, "broker", broker_id,
                                            col(T.id)):
            found[task_id] = Tally(count, last_at)
    return found
