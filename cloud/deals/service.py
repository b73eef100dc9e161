"""The deal documents' life: save (draft), submit, approve, reject, cancel, convert
(认筹 → 认购 → 签约), the overdue subscription and its voiding by a manager.

Each step locks the document, asks the table of cloud.deals.states, checks the prices
(cloud.deals.pricing), moves the unit and the customer's stage (cloud.deals.effects) and
is audited with its amounts, in the request's one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from cloud.deals import (
    buyers,
    documents,
    effects,
    opening,
    pricing,
    project_settings,
    scope,
    signing,
)
from cloud.deals.errors import (
    NotConvertible,
    NoteRequired,
    OwnApproval,
    UnitRequired,
    UnitTaken,
    UnitUnavailable,
)
from cloud.deals.models import Deal, DealSetting
from cloud.deals.states import NEXT_KIND, Action, Kind, Status
from cloud.identity.principal import Principal
from cloud.inventory import scope as inventory_scope
from cloud.inventory.states import Action as UnitAction
from cloud.inventory.states import State as UnitState
from cloud.sales import stages
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

# Unit states a new document may take a unit from (the inventory's table decides the
# rest; this only answers early and clearly).
_TAKEABLE = {Kind.PLEDGE: {UnitState.AVAILABLE, UnitState.RESERVED, UnitState.UNRELEASED},
             Kind.SUBSCRIPTION: {UnitState.AVAILABLE, UnitState.RESERVED}}
OVERDUE_BATCH = 500


@dataclass(frozen=True)
class Terms:
    """What a document says: the unit, the buyer, how and how much they pay."""

    unit_id: int | None
    buyer_name: str
    payment_method: str
    price_fen: int
    amount_fen: int
    co_buyers: list[buyers.CoBuyer] = field(default_factory=list)


def create(session: Session, settings: CloudSettings, principal: Principal, *,
           kind: Kind, project_id: int, customer_id: int, terms: Terms) -> Deal:
    """Save a new pledge or subscription as a draft; it holds its unit from now on."""
    if kind == Kind.CONTRACT:
        raise NotConvertible("签约单据只能由已审批的认购转换而来")
    inventory_scope.project(session, principal, project_id)
    customer = scope.customer(session, principal, customer_id, project_id)
    if kind == Kind.SUBSCRIPTION and terms.unit_id is None:
        raise UnitRequired()
    deal = Deal(project_id=project_id, customer_id=customer_id, kind=kind.value,
                consultant_id=customer.owner_id or principal.user_id,
                created_by=principal.user_id,
                buyer_name_enc=documents.encrypt_name(settings, terms.buyer_name),
                payment_method=terms.payment_method, price_fen=terms.price_fen,
                amount_fen=terms.amount_fen)
    if terms.unit_id is not None:
        _price_unit(session, principal, deal, terms.unit_id, _TAKEABLE[kind])
    documents.insert(session, deal)
    if terms.co_buyers:
        buyers.write(session, settings, principal, deal, terms.co_buyers)
    if deal.unit_id is not None:
        effects.take_unit(session, principal, deal, deal.unit_id, _reason(deal))
    if kind == Kind.SUBSCRIPTION:
        effects.stage(customer, stages.SUBSCRIBED)
        session.add(customer)
    session.flush()
    documents.audit(session, principal, deal, "deal.create", {"status": deal.status})
    effects.tell_the_phone(session, settings, customer)
    return deal


def _price_unit(session: Session, principal: Principal, deal: Deal, unit_id: int,
                takeable: set[UnitState]) -> None:
    """Bind the unit to the document with its prices now, refusing below the floor."""
    unit = inventory_scope.unit(session, principal, unit_id)
    if unit.project_id != deal.project_id:
        raise UnitUnavailable("房源不属于该项目")
    if documents.live_on(session, unit_id) is not None:
        raise UnitTaken()
    if UnitState(unit.state) not in takeable:
        raise UnitUnavailable()
    opening.check_not_held(session, unit_id, deal.parent_id)
    pricing.check_floor(deal.price_fen, unit.floor_price_fen)
    deal.unit_id = unit_id
    deal.list_price_fen, deal.floor_price_fen = unit.list_price_fen, unit.floor_price_fen


def _reason(deal: Deal) -> str:
    return f"交易单据 #{deal.id}"


def submit(session: Session, principal: Principal, deal_id: int) -> Deal:
    deal, step = documents.load(session, principal, deal_id, Action.SUBMIT)
    deal.submitted_at = utcnow()
    documents.move(session, principal, deal, step.to, Action.SUBMIT)
    return deal


def approve(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
            note: str) -> Deal:
    """Approve within the approver's discount authority; the unit and the customer's
    stage follow, and the channel's 判客 takes the milestone."""
    deal, step = documents.load(session, principal, deal_id, Action.APPROVE)
    if deal.created_by == principal.user_id:
        raise OwnApproval()
    numbers = project_settings.of(session, deal.project_id)
    if deal.unit_id is not None:
        pricing.check_authority(principal.roles, numbers, deal.price_fen,
                                deal.list_price_fen, deal.floor_price_fen)
    now = utcnow()
    deal.approved_by, deal.approved_at, deal.decision_note = principal.user_id, now, note.strip()
    if deal.kind == Kind.SUBSCRIPTION:
        deal.contract_due_at = now + timedelta(days=numbers.contract_days)
    if deal.unit_carried and deal.unit_id is not None:
        effects.move_unit(session, principal, deal.unit_id, effects.TAKE[Kind(deal.kind)],
                          _reason(deal))
        deal.unit_carried = False
    documents.move(session, principal, deal, step.to, Action.APPROVE, {"note": note.strip()})
    customer = documents.customer_of(session, deal)
    effects.stage(customer, {Kind.PLEDGE: stages.PLEDGED, Kind.SUBSCRIPTION: stages.TO_SIGN,
                             Kind.CONTRACT: stages.SIGNED}[Kind(deal.kind)])
    session.add(customer)
    session.flush()
    effects.attribution_fact(session, settings, customer, now)
    effects.tell_the_phone(session, settings, customer)
    return deal


def reject(session: Session, principal: Principal, deal_id: int, note: str) -> Deal:
    """Back to the seller as a draft (it keeps its unit), with the approver's note."""
    deal, step = documents.load(session, principal, deal_id, Action.REJECT)
    deal.decision_note = required(note)
    documents.move(session, principal, deal, step.to, Action.REJECT, {"note": deal.decision_note})
    return deal


def cancel(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
           reason: str) -> Deal:
    """A draft given up: its unit goes back to 待售 — or, for a converted document, the
    document it came from is live again and keeps the unit."""
    deal, step = documents.load(session, principal, deal_id, Action.CANCEL)
    _end_draft(session, settings, principal, deal, step.to, Action.CANCEL, required(reason))
    return deal


def _end_draft(session: Session, settings: CloudSettings, principal: Principal | None,
               deal: Deal, to: Status, action: Action, reason: str) -> None:
    deal.ended_reason = reason
    documents.move(session, principal, deal, to, action, {"reason": reason})
    parent = session.get(Deal, deal.parent_id, with_for_update=True) if deal.parent_id else None
    if parent is not None:
        parent.status = Status.APPROVED.value
        session.add(parent)
        session.flush()
        documents.audit(session, principal, parent, "deal.restore", {"child": deal.id})
    if deal.unit_id is not None and not deal.unit_carried:
        effects.move_unit(session, principal, deal.unit_id, UnitAction.RETURN, _reason(deal))
    customer = documents.customer_of(session, deal)
    if deal.kind == Kind.SUBSCRIPTION and parent is not None:
        effects.stage(customer, stages.PLEDGED)
    elif deal.kind == Kind.SUBSCRIPTION:
        effects.fall_back(session, customer, deal, stages.VISITED)
    session.add(customer)
    session.flush()
    effects.tell_the_phone(session, settings, customer)


def expire_drafts(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The sweep: a draft left untouched longer than its project's `draft_days` is
    cancelled by the system, as its seller's cancel would be (the unit back to 待售, a
    converted draft's parent live again). Submitted documents wait for their approver."""
    now = utcnow()
    default = DealSetting(project_id=0).draft_days
    ages: dict[int, set[int]] = {}
    for project_id, days in session.exec(select(DealSetting.project_id,
                                                DealSetting.draft_days)).all():
        ages.setdefault(days, set()).add(project_id)
    others = {p for days, projects in ages.items() if days != default for p in projects}
    expired = 0
    # One query per age in force (a handful), so each draft is judged by its project's.
    for days in sorted({default, *ages}):
        in_force = (col(Deal.project_id).not_in(others) if days == default
                    else col(Deal.project_id).in_(ages[days]))
        stale = session.exec(select(Deal).where(
            Deal.status == Status.DRAFT.value, in_force,
            col(Deal.updated_at) <= now - timedelta(days=days))
            .order_by(col(Deal.id)).limit(OVERDUE_BATCH).with_for_update(skip_locked=True)).all()
        for deal in stale:
            step = documents.check_system(Status(deal.status), Action.EXPIRE)
            _end_draft(session, settings, None, deal, step.to, Action.EXPIRE,
                       f"草稿超过 {days} 天未提交，系统自动取消")
        expired += len(stale)
    return {"expired": expired}


@dataclass(frozen=True)
class Conversion:
    """The next document's terms; `unit_id` only where the pledge named no unit."""

    unit_id: int | None
    payment_method: str
    price_fen: int | None
    amount_fen: int
    # Where a contract is signed (cloud.deals.signing): the phone's (lat, lng), and/or
    # the source the seller chose (device / site).
    signed_at_place: tuple[float, float] | None = None
    signing_source: str | None = None


def convert(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
            data: Conversion) -> Deal:
    """认筹 → 认购 or 认购 → 签约: the approved document is converted and the next one is
    saved as a draft. The money received so far is carried into it (the pledge becomes
    the deposit, the deposit part of the price)."""
    parent, step = documents.load(session, principal, deal_id, Action.CONVERT)
    kind = NEXT_KIND.get(Kind(parent.kind))
    if kind is None:
        raise NotConvertible()
    documents.move(session, principal, parent, step.to, Action.CONVERT)
    assert parent.id is not None
    child = Deal(project_id=parent.project_id, customer_id=parent.customer_id,
                 parent_id=parent.id, kind=kind.value, consultant_id=parent.consultant_id,
                 created_by=principal.user_id, buyer_name_enc=parent.buyer_name_enc,
                 payment_method=data.payment_method,
                 price_fen=data.price_fen if data.price_fen is not None else parent.price_fen,
                 amount_fen=data.amount_fen,
                 carried_fen=parent.carried_fen + documents.received_fen(session, parent.id))
    signing.record(session, child, at=data.signed_at_place, source=data.signing_source)
    if parent.unit_id is not None:
        # The unit stays in the parent's state until this document is approved.
        unit = inventory_scope.unit(session, principal, parent.unit_id)
        pricing.check_floor(child.price_fen, unit.floor_price_fen)
        child.unit_id, child.unit_carried = parent.unit_id, True
        child.list_price_fen, child.floor_price_fen = unit.list_price_fen, unit.floor_price_fen
    elif data.unit_id is None:
        raise UnitRequired()
    else:
        _price_unit(session, principal, child, data.unit_id, _TAKEABLE[Kind.SUBSCRIPTION])
    documents.insert(session, child)
    buyers.copy(session, parent, child)
    if child.unit_id is not None and not child.unit_carried:
        effects.take_unit(session, principal, child, child.unit_id, _reason(child))
    opening.converted(session, parent, child)
    customer = documents.customer_of(session, child)
    if kind == Kind.SUBSCRIPTION:
        effects.stage(customer, stages.SUBSCRIBED)
        session.add(customer)
    session.flush()
    documents.audit(session, principal, child, "deal.create",
                    {"status": child.status, "parent_id": parent.id,
                     "carried_fen": child.carried_fen,
                     "signed_place_source": child.signed_place_source})
    effects.tell_the_phone(session, settings, customer)
    return child


def mark_overdue_one(session: Session, deal: Deal) -> None:
    """The system's step: an approved subscription past its contract deadline."""
    step = documents.check_system(Status(deal.status), Action.MARK_OVERDUE)
    documents.move(session, None, deal, step.to, Action.MARK_OVERDUE,
                   {"contract_due_at": deal.contract_due_at and deal.contract_due_at.isoformat()})


def mark_overdue(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The job: approved subscriptions past their deadline become overdue. They are never
    voided or refunded automatically: a manager decides."""
    del settings
    due = session.exec(select(Deal).where(
        Deal.kind == Kind.SUBSCRIPTION.value, Deal.status == Status.APPROVED.value,
        col(Deal.contract_due_at) <= utcnow()).order_by(col(Deal.id))
        .limit(OVERDUE_BATCH).with_for_update(skip_locked=True)).all()
    for deal in due:
        mark_overdue_one(session, deal)
    return {"overdue": len(due)}


def void(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
         reason: str) -> Deal:
    """A manager voids an overdue subscription: the unit goes back to 待售, the customer
    to 已失效. Money received is not refunded by this (finance decides)."""
    deal, step = documents.load(session, principal, deal_id, Action.VOID)
    deal.ended_reason = required(reason)
    documents.move(session, principal, deal, step.to, Action.VOID, {"reason": deal.ended_reason})
    if deal.unit_id is not None:
        effects.move_unit(session, principal, deal.unit_id, UnitAction.RETURN, _reason(deal))
    customer = documents.customer_of(session, deal)
    effects.fall_back(session, customer, deal, stages.VOID)
    session.add(customer)
    session.flush()
    effects.tell_the_phone(session, settings, customer)
    return deal


def required(text: str) -> str:
    if not text.strip():
        raise NoteRequired()
    return text.strip()
