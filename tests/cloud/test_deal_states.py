"""The deal document's state machine walked exhaustively: every status × every action ×
every role (and the system), each through the service a route would call, each allowed
step made (the document lands where the table says) and each refused one refused with its
own code. The expectation is written here by hand, not read from cloud.deals.states, so a
changed table fails."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from cloud.deals import changes, documents, service
from cloud.deals.models import Deal, DealChange
from cloud.deals.states import TRANSITIONS, Action, Status
from cloud.identity.principal import Principal
from cloud.settings import CloudSettings
from shared.errors import AppError
from shared.timeutil import utcnow
from tests.cloud.authorization_rules import ROLES
from tests.cloud.deal_world import Office, build_office, subscribe
from tests.cloud.inventory_world import principal

S, A = Status, Action
SELLERS, SYSTEM = {"consultant", "sales_manager"}, {"system"}
MANAGERS = {"sales_manager", "sales_director"}
EXPECTED: dict[tuple[Status, Action], tuple[Status, set[str]]] = {
    (S.DRAFT, A.SUBMIT): (S.SUBMITTED, SELLERS),
    (S.DRAFT, A.CANCEL): (S.CANCELLED, SELLERS),
    (S.DRAFT, A.EXPIRE): (S.CANCELLED, SYSTEM),
    (S.SUBMITTED, A.APPROVE): (S.APPROVED, MANAGERS),
    (S.SUBMITTED, A.REJECT): (S.DRAFT, MANAGERS),
    (S.APPROVED, A.CONVERT): (S.CONVERTED, SELLERS),
    (S.APPROVED, A.REQUEST_CHANGE): (S.CHANGE_PENDING, SELLERS),
    (S.CHANGE_PENDING, A.APPLY_CHANGE): (S.APPROVED, MANAGERS),
    (S.CHANGE_PENDING, A.REJECT_CHANGE): (S.APPROVED, MANAGERS),
    (S.APPROVED, A.MARK_OVERDUE): (S.OVERDUE, SYSTEM),
    (S.OVERDUE, A.VOID): (S.VOIDED, MANAGERS),
}
# Who sees a deal at all: the others are told it does not exist, whatever its state.
SEES = {"consultant", "sales_manager", "sales_director", "hq_manager"}


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> tuple[Office, Deal]:
    found = build_office(db, settings, floors=1, per_floor=1)
    return found, subscribe(db, settings, found, found.unit(0))


def _who(office: Office, role: str) -> Principal | None:
    if role == "system":
        return None
    user = {"consultant": "consult_a", "sales_manager": "manager_a",
            "sales_director": "manager_a", "hq_manager": "hqadmin"}.get(role, "reception_a")
    return principal(office.world[user], role, site_ids=None if role == "hq_manager"
                     else ["site-a"])


def _run(db: Session, settings: CloudSettings, deal: Deal, action: Action,
         who: Principal | None, change_id: int) -> None:
    assert deal.id is not None
    if who is None:  # the system's steps: the overdue job's and the draft sweep's
        if action == A.EXPIRE:
            db.execute(update(Deal).where(col(Deal.id) == deal.id).values(
                updated_at=utcnow() - timedelta(days=30)))
            if status_now(db, deal) == S.DRAFT:
                assert service.expire_drafts(db, settings) == {"expired": 1}
                return
        elif action == A.MARK_OVERDUE:
            service.mark_overdue_one(db, deal)
            return
        documents.check_system(Status(deal.status), action)
        return
    steps: dict[Action, Callable[[], object]] = {
        A.SUBMIT: lambda: service.submit(db, who, deal.id or 0),
        A.APPROVE: lambda: service.approve(db, settings, who, deal.id or 0, "走查"),
        A.REJECT: lambda: service.reject(db, who, deal.id or 0, "走查"),
        A.CANCEL: lambda: service.cancel(db, settings, who, deal.id or 0, "走查"),
        A.CONVERT: lambda: service.convert(db, settings, who, deal.id or 0, service.Conversion(
            unit_id=None, payment_method="full", price_fen=None, amount_fen=0)),
        A.REQUEST_CHANGE: lambda: changes.request(
            db, settings, who, deal.id or 0, changes.ChangeAsk("rename", "走查", None, "王五")),
        A.APPLY_CHANGE: lambda: changes.apply(db, settings, who, change_id, "走查"),
        A.REJECT_CHANGE: lambda: changes.reject(db, who, change_id, "走查"),
        A.VOID: lambda: service.void(db, settings, who, deal.id or 0, "走查"),
        A.MARK_OVERDUE: lambda: documents.load(db, who, deal.id or 0, A.MARK_OVERDUE),
        A.EXPIRE: lambda: documents.load(db, who, deal.id or 0, A.EXPIRE),
    }
    steps[action]()


def status_now(db: Session, deal: Deal) -> Status:
    db.refresh(deal)
    return Status(deal.status)


def _attempt(db: Session, settings: CloudSettings, deal: Deal, status: Status,
             action: Action, role: str, office: Office) -> tuple[str, Status | None]:
    savepoint = db.begin_nested()
    try:
        db.execute(update(Deal).where(col(Deal.id) == deal.id).values(
            status=status.value, contract_due_at=utcnow()))
        db.refresh(deal)
        change = DealChange(deal_id=deal.id or 0, project_id=deal.project_id, kind="rename",
                            new_buyer_name_enc=deal.buyer_name_enc, reason="走查",
                            requested_by=office.consultant.user_id)
        if action in (A.APPLY_CHANGE, A.REJECT_CHANGE):
            db.add(change)
            db.flush()
        try:
            _run(db, settings, deal, action, _who(office, role), change.id or 0)
        except AppError as refused:
            return refused.code, None
        db.refresh(deal)
        return "allowed", Status(deal.status)
    finally:
        savepoint.rollback()


def _expected(status: Status, action: Action, role: str) -> tuple[str, Status | None]:
    if role not in SEES | SYSTEM:
        hidden = A.APPLY_CHANGE, A.REJECT_CHANGE
        return ("deal_change_not_found" if action in hidden else "deal_not_found"), None
    if (status, action) not in EXPECTED:
        return "deal_transition_refused", None
    to, roles = EXPECTED[(status, action)]
    return ("allowed", to) if role in roles else ("deal_transition_forbidden", None)


def test_every_step_by_every_role(db: Session, settings: CloudSettings,
                                  office: tuple[Office, Deal]) -> None:
    place, deal = office
    wrong = []
    for role, status, action in itertools.product((*ROLES, "system"), Status, Action):
        got = _attempt(db, settings, deal, status, action, role, place)
        expected = _expected(status, action, role)
        if got != expected:
            wrong.append(f"{role} {status}→{action}: expected {expected}, got {got}")
    assert wrong == [], "\n".join(wrong)


def test_the_table_has_exactly_the_hand_written_rows() -> None:
    assert {k: (v.to, set(v.roles)) for k, v in TRANSITIONS.items()} == EXPECTED
