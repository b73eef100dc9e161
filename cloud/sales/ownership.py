"""Customer ownership (客户归属): the path, what synced visits do to it, and the sweep.

- First receiver owns; a return visit restarts protection and revives an overdue owner.
- A second consultant receiving an owned customer is recorded as 撞单 (Collision).
- The sweep (scheduled job `sales.ownership_sweep`) warns owners before the deadline of
  cloud.sales.ownership_rules and lapses those past it: 逾期, then the public pool with the
  old owner recorded (or 逾期 only, where the project says "warn only"). Customers at 认筹
  or later never lapse (cloud.sales.stages.NEVER_LAPSE).

Functions flush; the caller commits (the job runner commits the sweep).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from cloud.channel import notifications
from cloud.sales import stages
from cloud.sales.models import Customer
from cloud.sales.ownership_models import (
    LAPSE_TO_POOL,
    OVERDUE,
    OWNED,
    PUBLIC,
    Collision,
    OwnershipEvent,
)
from cloud.sales.ownership_rules import Deadline, OwnershipRules, deadline, rules_for
from shared.timeutil import SHANGHAI, as_utc, iso, utcnow

# The steps of an ownership path.
RECEIVE, RETURN, OVERDUE_STEP, TO_POOL, PICKUP, TRANSFER, ALLOCATE, INVALIDATE = (
    "receive", "return_visit", "overdue", "to_pool", "pickup", "transfer", "allocate",
    "invalidate")
# A "came before, forgot the name" claim (忘记顾问认领) assigned at the appliance's
# reception (cloud.reception.sync_events).
CLAIM = "claim"
PATH_KINDS = (RECEIVE, RETURN, OVERDUE_STEP, TO_POOL, PICKUP, TRANSFER, ALLOCATE, INVALIDATE,
              CLAIM)
NOTIFY_KIND = "sales.follow_up_due"


class PathSubject(Protocol):
    """A stored customer, or one a sync run just inserted (cloud.sales.synced_visits)."""

    id: int | None
    project_id: int
    owner_id: int | None


def log_step(session: Session, customer: PathSubject, kind: str, *, at: datetime,
             from_owner_id: int | None = None, to_owner_id: int | None = None,
             actor_id: int | None = None, category: str | None = None,
             reason: str | None = None) -> None:
    assert customer.id is not None
    session.add(OwnershipEvent(
        customer_id=customer.id, project_id=customer.project_id, kind=kind,
        from_owner_id=from_owner_id, to_owner_id=to_owner_id, actor_id=actor_id,
        category=category, reason=reason, at=at))


def customer_deadline(customer: Customer, *, rules: OwnershipRules) -> Deadline:
    return deadline(last_effective_at=customer.last_effective_at,
                    owned_since=customer.owned_since,
                    protection_until=customer.protection_until, rules=rules)


# ---- synced visits -------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFact:
    """What one applied visit did to its customer's ownership (cloud.sales.synced_visits)."""

    customer: PathSubject  # its id is set once inserted
    visit_id: str
    consultant_id: int | None
    at: datetime
    step: str | None  # receive | return_visit | None (nothing to log)
    from_owner_id: int | None
    collided_owner_id: int | None  # the owner another consultant collided with


def record_visit_facts(session: Session, facts: Sequence[VisitFact]) -> None:
    """The path steps and 撞单 records of a run's visits (after the visits are inserted)."""
    for fact in facts:
        if fact.step is not None:
            log_step(session, fact.customer, fact.step, at=fact.at,
                     from_owner_id=fact.from_owner_id, to_owner_id=fact.customer.owner_id)
        if fact.collided_owner_id is not None and fact.consultant_id is not None:
            assert fact.customer.id is not None
            session.add(Collision(
                customer_id=fact.customer.id, project_id=fact.customer.project_id,
                visit_id=fact.visit_id, owner_id=fact.collided_owner_id,
                consultant_id=fact.consultant_id, occurred_at=fact.at))
    session.flush()


# ---- the sweep -----------------------------------------------------------------------


@dataclass
class SweepRun:
    warned: int = 0
    overdue: int = 0
    pooled: int = 0
    # Customers whose owner changed: their appliances are told (cloud.sales.tasks).
    released: list[Customer] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"warned": self.warned, "overdue": self.overdue, "pooled": self.pooled}


def sweep(session: Session, *, now: datetime | None = None) -> SweepRun:
    """Warn and lapse the owned customers whose deadline is near or past.

    Reads the owned customers with an owner at a stage that may lapse with their rows
    locked (SKIP LOCKED: one a manager is transferring right now is left for the next
    run rather than waited for)."""
    at = as_utc(now or utcnow())
    run = SweepRun()
    rows = list(session.exec(
        select(Customer)
        .where(col(Customer.ownership).in_((OWNED, OVERDUE)),
               col(Customer.owner_id).is_not(None),
               col(Customer.status).not_in(stages.NEVER_LAPSE))
        .order_by(col(Customer.id))
        .with_for_update(skip_locked=True)
    ).all())
    rules = rules_for(session, {c.project_id for c in rows})
    for customer in rows:
        rule = rules[customer.project_id]
        due = customer_deadline(customer, rules=rule)
        if at >= due.at:
            _lapse(session, customer, due, rule.lapse_action, at, run)
        elif at >= due.warn_from and customer.warned_for != due.at:
            _warn(session, customer, due)
            customer.warned_for = due.at
            run.warned += 1
    session.flush()
    return run


def _lapse(session: Session, customer: Customer, due: Deadline, action: str,
           at: datetime, run: SweepRun) -> None:
    owner = customer.owner_id
    if customer.ownership == OWNED:
        customer.ownership = OVERDUE
        customer.lapsed_at = due.at
        log_step(session, customer, OVERDUE_STEP, at=due.at, from_owner_id=owner,
                 to_owner_id=owner, reason=due.reason)
        run.overdue += 1
    if action != LAPSE_TO_POOL:
        return  # warn only: 逾期, the owner keeps the customer
    customer.ownership = PUBLIC
    customer.previous_owner_id = owner
    customer.owner_id = None
    customer.lapsed_at = at
    log_step(session, customer, TO_POOL, at=at, from_owner_id=owner, reason=due.reason)
    run.pooled += 1
    run.released.append(customer)


def _warn(session: Session, customer: Customer, due: Deadline) -> None:
    assert customer.owner_id is not None
    what = "有效跟进" if due.reason == "follow_up_overdue" else "复访（保护期将结束）"
    notifications.notify(
        session, user_id=customer.owner_id, kind=NOTIFY_KIND, title="客户即将掉入公客池",
        body=f"客户 {customer.phone_masked} 需在 {_beijing(due.at)} 前完成{what}，"
             "否则将转为逾期并释放到公客池",
        data={"customer_id": customer.id, "project_id": customer.project_id,
              "lapse_at": iso(due.at), "reason": due.reason})


def _beijing(at: datetime) -> str:
    return as_utc(at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
