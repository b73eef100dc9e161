"""Two managers act on one public customer at the same instant, each in its own
transaction on the real PostgreSQL: exactly one allocation (or one approval) wins, the
other is told the customer moved, and the path has one step."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cloud.identity.permissions import permissions_of
from cloud.identity.principal import Principal
from cloud.sales import ownership_actions as actions
from cloud.sales.models import Customer
from cloud.sales.ownership_models import OwnershipEvent, PickupRequest
from cloud.settings import CloudSettings
from shared.errors import AppError
from tests.cloud import make_user
from tests.cloud.ownership_world import to_pool


def _manager(user_id: int, name: str, role: str = "sales_manager") -> Principal:
    return Principal(user_id=user_id, username=name, display_name=name,
                     roles=frozenset({role}), permissions=permissions_of({role}),
                     site_ids=frozenset({"site-a"}), ip=None)


def _race(engine: Engine, calls: list[Callable[[Session], object]]) -> Counter[str]:
    start = threading.Barrier(len(calls))

    def run(call: Callable[[Session], object]) -> str:
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            try:
                call(session)
                session.commit()
            except AppError as exc:
                session.rollback()
                return exc.code
            return "won"

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def _pool_customer(db: Session, world: dict[str, Any]) -> int:
    customer = db.get(Customer, world["site-a"].customer_id)
    assert customer is not None and customer.id is not None
    to_pool(db, customer)
    return customer.id


def test_two_managers_allocating_one_pool_customer(
    db: Session, engine: Engine, settings: CloudSettings, world: dict[str, Any]
) -> None:
    customer_id = _pool_customer(db, world)
    second = make_user(db, "manager_a2", roles=["sales_manager"], site_ids=["site-a"])
    managers = [_manager(world["manager_a"], "manager_a"),
                _manager(second.id or 0, "manager_a2")]
    targets = [world["consult_a"], world["consult_a2"]]

    def allocate(principal: Principal, to: int) -> Callable[[Session], object]:
        return lambda s: actions.assign(
            s, settings=settings, principal=principal, customer_id=customer_id, to_user_id=to,
            expected_owner_id=None, expected_ownership="public", reason="并发分配")

    answers = _race(engine, [allocate(m, t) for m, t in zip(managers, targets, strict=True)])

    assert answers == {"won": 1, "ownership_changed": 1}
    db.rollback()
    customer = db.get(Customer, customer_id, populate_existing=True)
    assert customer is not None and customer.owner_id in targets
    steps = db.exec(select(OwnershipEvent).where(OwnershipEvent.customer_id == customer_id,
                                                 OwnershipEvent.kind == "allocate")).all()
    assert [s.to_owner_id for s in steps] == [customer.owner_id]


def test_two_directors_approving_two_requests_for_one_customer(
    db: Session, engine: Engine, settings: CloudSettings, world: dict[str, Any]
) -> None:
    customer_id = _pool_customer(db, world)
    extra = make_user(db, "consult_a3", roles=["consultant"], site_ids=["site-a"])
    first = make_user(db, "director_a", roles=["sales_director"], site_ids=["site-a"])
    second = make_user(db, "director_a2", roles=["sales_director"], site_ids=["site-a"])
    requests = [PickupRequest(customer_id=customer_id, project_id=world["site-a"].project_id,
                              requester_id=who) for who in (world["consult_a2"], extra.id or 0)]
    db.add_all(requests)
    db.commit()
    managers = [_manager(first.id or 0, "director_a", "sales_director"),
                _manager(second.id or 0, "director_a2", "sales_director")]

    def approve(principal: Principal, request_id: int) -> Callable[[Session], object]:
        return lambda s: actions.decide_pickup(s, settings=settings, principal=principal,
                                               request_id=request_id, approve=True,
                                               note=None)

    answers = _race(engine, [approve(m, r.id or 0)
                             for m, r in zip(managers, requests, strict=True)])

    # The loser either finds the customer gone or its request already refused by the
    # winner (who refuses the other pending requests for the customer).
    assert answers["won"] == 1
    assert set(answers) - {"won"} <= {"customer_not_in_pool", "pickup_already_decided"}
    db.rollback()
    statuses = Counter(db.exec(select(PickupRequest.status)).all())
    assert statuses == {"approved": 1, "refused": 1}
    customer = db.get(Customer, customer_id, populate_existing=True)
    assert customer is not None and customer.ownership == "owned"
