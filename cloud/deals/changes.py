"""Change requests on an approved document (变更): 退房, 换房, 更名 and a new price. The
seller asks, a sales manager applies or rejects; each is audited with its amounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.deals import documents, effects, pricing, project_settings, scope
from cloud.deals.errors import (
    ChangeInvalid,
    ChangeNotFound,
    ChangeNotPending,
    DealNotFound,
    OwnApproval,
    UnitUnavailable,
)
from cloud.deals.models import Deal, DealChange
from cloud.deals.service import required
from cloud.deals.states import CANCEL_APPLIED, Action, Kind, Status, check
from cloud.identity.principal import Principal
from cloud.inventory import scope as inventory_scope
from cloud.inventory.states import Action as UnitAction
from cloud.inventory.states import State as UnitState
from cloud.sales import stages
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

KINDS = {"cancel": "退房", "swap": "换房", "rename": "更名", "price": "变更价格"}
# Where 退房 leaves the customer, by the document's kind (退筹 is a refund).
_AFTER_CANCEL = {Kind.PLEDGE: stages.REFUNDED, Kind.SUBSCRIPTION: stages.VISITED,
                 Kind.CONTRACT: stages.VISITED}


@dataclass(frozen=True)
class ChangeAsk:
    kind: str
    reason: str
    new_unit_id: int | None = None
    new_buyer_name: str | None = None
    new_price_fen: int | None = None


def request(session: Session, settings: CloudSettings, principal: Principal, deal_id: int,
            ask: ChangeAsk) -> DealChange:
    deal, step = documents.load(session, principal, deal_id, Action.REQUEST_CHANGE)
    change = DealChange(deal_id=deal_id, project_id=deal.project_id, kind=ask.kind,
                        reason=required(ask.reason), requested_by=principal.user_id)
    if ask.kind == "swap":
        if ask.new_unit_id is None or deal.unit_id is None or ask.new_unit_id == deal.unit_id:
            raise ChangeInvalid("换房须指定另一套房源")
        unit = inventory_scope.unit(session, principal, ask.new_unit_id)
        if unit.project_id != deal.project_id or unit.state != UnitState.AVAILABLE:
            raise UnitUnavailable("换房的新房源必须是本项目待售的房源")
        change.new_unit_id = unit.id
        change.new_price_fen = ask.new_price_fen
        pricing.check_floor(ask.new_price_fen if ask.new_price_fen is not None
                            else deal.price_fen, unit.floor_price_fen)
    elif ask.kind == "rename":
        if not ask.new_buyer_name or not ask.new_buyer_name.strip():
            raise ChangeInvalid("更名须填写新的购房人姓名")
        change.new_buyer_name_enc = documents.encrypt_name(settings, ask.new_buyer_name)
    elif ask.kind == "price":
        if ask.new_price_fen is None or deal.unit_id is None:
            raise ChangeInvalid("变更价格须填写新价格，且单据须有房源")
        pricing.check_floor(ask.new_price_fen, deal.floor_price_fen)
        change.new_price_fen = ask.new_price_fen
    try:
        with session.begin_nested():
            session.add(change)
    except IntegrityError as clash:  # a second pending change on the document
        raise ChangeNotPending("该单据已有待审批的变更") from clash
    documents.move(session, principal, deal, step.to, Action.REQUEST_CHANGE,
                   {"change_id": change.id, "change": ask.kind,
                    "new_price_fen": change.new_price_fen, "new_unit_id": change.new_unit_id})
    return change


def _pending(session: Session, principal: Principal, change_id: int, action: Action
             ) -> tuple[DealChange, Deal, Status]:
    change = session.get(DealChange, change_id, with_for_update=True)
    if change is None:
        raise ChangeNotFound()
    try:
        deal = scope.deal(session, principal, change.deal_id, for_update=True)
    except DealNotFound:
        raise ChangeNotFound() from None
    if change.status != "pending":
        raise ChangeNotPending()
    step = check(Status(deal.status), action, documents.roles_of(principal))
    return change, deal, step.to


def apply(session: Session, settings: CloudSettings, principal: Principal,
          change_id: int, note: str) -> DealChange:
    change, deal, to = _pending(session, principal, change_id, Action.APPLY_CHANGE)
    if change.requested_by == principal.user_id:
        raise OwnApproval()
    reason = f"变更 #{change.id}（{KINDS[change.kind]}）"
    detail: dict[str, object] = {"change_id": change.id, "change": change.kind}
    if change.kind == "cancel":
        to = CANCEL_APPLIED
        deal.ended_reason = change.reason
        if deal.unit_id is not None:
            effects.move_unit(session, principal, deal.unit_id, UnitAction.RETURN, reason)
        customer = documents.customer_of(session, deal)
        effects.stage(customer, _AFTER_CANCEL[Kind(deal.kind)])
        session.add(customer)
    elif change.kind == "swap":
        assert change.new_unit_id is not None and deal.unit_id is not None
        old = deal.unit_id
        unit = inventory_scope.unit(session, principal, change.new_unit_id)
        price = change.new_price_fen if change.new_price_fen is not None else deal.price_fen
        pricing.check_authority(principal.roles, project_settings.of(session, deal.project_id),
                                price, unit.list_price_fen, unit.floor_price_fen)
        documents.set_unit(session, deal, change.new_unit_id)
        deal.price_fen = price
        deal.list_price_fen, deal.floor_price_fen = unit.list_price_fen, unit.floor_price_fen
        effects.move_unit(session, principal, old, UnitAction.RETURN, reason)
        effects.take_unit(session, principal, deal, change.new_unit_id, reason)
        detail |= {"old_unit_id": old, "price_fen": price}
    elif change.kind == "rename":
        assert change.new_buyer_name_enc is not None
        deal.buyer_name_enc = change.new_buyer_name_enc
    else:
        assert change.new_price_fen is not None
        pricing.check_authority(principal.roles, project_settings.of(session, deal.project_id),
                                change.new_price_fen, deal.list_price_fen,
                                deal.floor_price_fen)
        detail |= {"old_price_fen": deal.price_fen, "price_fen": change.new_price_fen}
        deal.price_fen = change.new_price_fen
    _decide(session, principal, change, "applied", note)
    documents.move(session, principal, deal, to, Action.APPLY_CHANGE, detail)
    if change.kind == "cancel":
        effects.tell_the_phone(session, settings, documents.customer_of(session, deal))
    return change


def reject(session: Session, principal: Principal, change_id: int, note: str) -> DealChange:
    change, deal, to = _pending(session, principal, change_id, Action.REJECT_CHANGE)
    _decide(session, principal, change, "rejected", required(note))
    documents.move(session, principal, deal, to, Action.REJECT_CHANGE,
                   {"change_id": change.id, "change": change.kind, "note": change.decision_note})
    return change


def _decide(session: Session, principal: Principal, change: DealChange, status: str,
            note: str) -> None:
    change.status, change.decision_note = status, note.strip()
    change.decided_by, change.decided_at = principal.user_id, utcnow()
    session.add(change)
    session.flush()


def listing(session: Session, deal: Deal) -> list[DealChange]:
    return list(session.exec(select(DealChange).where(DealChange.deal_id == deal.id)
                             .order_by(col(DealChange.id))).all())
