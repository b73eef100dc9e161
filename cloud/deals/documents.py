"""Reading and writing deal rows: the locked load, the audited step, the unit claim
that the partial unique index arbitrates, and the buyer's name at rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from cloud.audit import service as audit_service
from cloud.deals import scope
from cloud.deals.errors import UnitTaken
from cloud.deals.models import Deal, DealPayment
from cloud.deals.states import LIVE, Action, Status, Step, check
from cloud.identity.principal import Principal
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

NAME_CONTEXT = "deal.buyer_name"
SYSTEM_ROLES = frozenset({"system"})


def roles_of(principal: Principal | None) -> frozenset[str]:
    return SYSTEM_ROLES if principal is None else principal.roles


def load(session: Session, principal: Principal, deal_id: int, action: Action
         ) -> tuple[Deal, Step]:
    """The document locked for the step, and the table's step for the caller."""
    found = scope.deal(session, principal, deal_id, for_update=True)
    return found, check(Status(found.status), action, roles_of(principal))


def check_system(status: Status, action: Action) -> Step:
    """The table's step for the system (the scheduled jobs)."""
    return check(status, action, SYSTEM_ROLES)


def insert(session: Session, deal: Deal) -> Deal:
    """Save a new document. Of two live documents on one unit the database keeps the
    first: the second's INSERT fails on uq_deal_live_unit (on PostgreSQL after waiting for
    the first to commit), told apart from other failures by the pre-check's answer."""
    if deal.unit_id is not None and live_on(session, deal.unit_id) is not None:
        raise UnitTaken()
    try:
        with session.begin_nested():
            session.add(deal)
    except IntegrityError as clash:
        raise UnitTaken() from clash
    return deal


def set_unit(session: Session, deal: Deal, unit_id: int) -> None:
    """Point a live document at another unit (换房), under the same index."""
    if live_on(session, unit_id) is not None:
        raise UnitTaken()
    try:
        with session.begin_nested():
            deal.unit_id = unit_id
            session.add(deal)
    except IntegrityError as clash:
        raise UnitTaken() from clash


def live_on(session: Session, unit_id: int) -> int | None:
    return session.exec(select(Deal.id).where(
        Deal.unit_id == unit_id, col(Deal.status).in_([s.value for s in LIVE]))).first()


def move(session: Session, principal: Principal | None, deal: Deal, to: Status,
         action: Action, detail: dict[str, Any] | None = None) -> None:
    """Write the document's new status and audit the step with its money."""
    before = deal.status
    deal.status = to.value
    deal.updated_at = utcnow()
    if to not in LIVE and deal.ended_at is None and to != Status.CONVERTED:
        deal.ended_at = deal.updated_at
    session.add(deal)
    session.flush()
    audit(session, principal, deal, f"deal.{action.value}",
          {"from": before, "to": to.value, **(detail or {})})


def audit(session: Session, principal: Principal | None, deal: Deal, action: str,
          detail: dict[str, Any]) -> None:
    audit_service.record(
        session, action=action, principal=principal,
        actor=None if principal else "system", object_type="deal", object_id=str(deal.id),
        detail={"project_id": deal.project_id, "kind": deal.kind, "unit_id": deal.unit_id,
                "customer_id": deal.customer_id, "price_fen": deal.price_fen,
                "amount_fen": deal.amount_fen, **detail})


def customer_of(session: Session, deal: Deal) -> Customer:
    """The document's buyer, locked for a stage move. Not through the caller's scope: the
    customer may have been transferred to another consultant since the document was
    saved, and the document still moves their stage."""
    found = session.get(Customer, deal.customer_id, with_for_update=True)
    assert found is not None  # a foreign key
    return found


def encrypt_name(settings: CloudSettings, name: str) -> str:
    return settings.cipher.encrypt(name.strip(), context=NAME_CONTEXT)


def buyer_name(settings: CloudSettings, deal: Deal) -> str:
    return settings.cipher.decrypt(deal.buyer_name_enc, context=NAME_CONTEXT)


def received_fen(session: Session, deal_id: int) -> int:
    total = session.exec(select(func.coalesce(func.sum(DealPayment.amount_fen), 0))
                         .where(DealPayment.deal_id == deal_id)).one()
    return int(total)
