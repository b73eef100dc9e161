"""Reading deals for the console and the consultant's phone: one project's documents, one
document whole."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.deals import buyers, changes, documents, payments, pricing, project_settings, scope
from cloud.deals.models import Deal, DealChange
from cloud.deals.schemas import (
    ChangeOut,
    CoBuyerOut,
    DealDetail,
    DealOut,
    IdCheckOut,
    PaymentOut,
    Place,
)
from cloud.deals.states import KIND_NAMES, STATUS_NAMES, Kind, Status
from cloud.identity.models import User
from cloud.identity.permissions import Perm
from cloud.identity.principal import Principal
from cloud.inventory import scope as inventory_scope
from cloud.inventory.models import Building, Unit
from cloud.sales import service as sales_service
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.names import mask_name
from shared.payment import PAYMENT_METHODS

LIST_MAX = 200


@dataclass(frozen=True)
class Filter:
    """Which of a project's documents: by state, kind, buyer (the phone's customer page
    lists one customer's), and `before_id` to page on."""

    status: str | None = None
    kind: str | None = None
    customer_id: int | None = None
    before_id: int | None = None


def listing(session: Session, settings: CloudSettings, principal: Principal,
            project_id: int, which: Filter) -> list[DealOut]:
    """Newest first. A consultant sees the documents they sell."""
    inventory_scope.project(session, principal, project_id)
    query = select(Deal).where(Deal.project_id == project_id)
    if which.status:
        query = query.where(Deal.status == which.status)
    if which.kind:
        query = query.where(Deal.kind == which.kind)
    if which.customer_id is not None:
        query = query.where(Deal.customer_id == which.customer_id)
    if which.before_id is not None:
        query = query.where(col(Deal.id) < which.before_id)
    if not scope.sees_all(principal):
        query = query.where(scope.mine(principal))
    deals = session.exec(query.order_by(col(Deal.id).desc()).limit(LIST_MAX)).all()
    return _out(session, settings, principal, list(deals))


def detail(session: Session, settings: CloudSettings, principal: Principal,
           deal_id: int) -> DealDetail:
    deal = scope.deal(session, principal, deal_id)
    assert deal.id is not None
    base = _out(session, settings, principal, [deal])[0]
    approver = principal.can(Perm.DEAL_APPROVE) and deal.unit_id is not None
    return DealDetail(
        **base.model_dump(),
        co_buyers=[CoBuyerOut(**b) for b in buyers.shown(settings, buyers.of(session, deal.id))],
        id_check=_id_check(deal),
        signing_location=Place(lat=deal.signed_lat, lng=deal.signed_lng)
        if deal.signed_lat is not None and deal.signed_lng is not None else None,
        signing_place_source=deal.signed_place_source,
        received_fen=documents.received_fen(session, deal.id),
        changes=[change_out(c) for c in changes.listing(session, deal)],
        payments=[PaymentOut.model_validate(p, from_attributes=True)
                  for p in payments.listing(session, deal.id)],
        lowest_approvable_fen=pricing.lowest_approvable(
            principal.roles, project_settings.of(session, deal.project_id),
            deal.list_price_fen, deal.floor_price_fen) if approver else None)


def _id_check(deal: Deal) -> IdCheckOut | None:
    if deal.id_checked_at is None or deal.id_type is None:
        return None
    return IdCheckOut(id_type=deal.id_type, id_type_name=buyers.ID_TYPES[deal.id_type],
                      id_masked=deal.id_masked or "", checked_by=deal.id_checked_by or 0,
                      checked_at=deal.id_checked_at)


def change_out(change: DealChange) -> ChangeOut:
    return ChangeOut(id=change.id or 0, deal_id=change.deal_id, kind=change.kind,
                     kind_name=changes.KINDS[change.kind], new_unit_id=change.new_unit_id,
                     new_price_fen=change.new_price_fen,
                     renamed=change.new_buyer_name_enc is not None, reason=change.reason,
                     status=change.status, requested_by=change.requested_by,
                     requested_at=change.requested_at, decided_at=change.decided_at,
                     decision_note=change.decision_note)


def _out(session: Session, settings: CloudSettings, principal: Principal,
         deals: list[Deal]) -> list[DealOut]:
    units = {u: f"{b}{r}" for u, b, r in session.exec(
        select(Unit.id, Building.name, Unit.room)
        .join(Building, col(Building.id) == Unit.building_id)
        .where(col(Unit.id).in_({d.unit_id for d in deals if d.unit_id}))).all()}
    names = dict(session.exec(select(User.id, User.display_name).where(
        col(User.id).in_({d.consultant_id for d in deals}))).all())
    # The buyer as every seller and approver may see them (masked), so a manager knows
    # whose document it is without the customer in their own list.
    customers = {c.id: c for c in session.exec(select(Customer).where(
        col(Customer.id).in_({d.customer_id for d in deals}))).all()}
    floor = principal.can(Perm.INVENTORY_READ_ALL)
    return [DealOut(
        id=d.id or 0, project_id=d.project_id, customer_id=d.customer_id,
        customer_name_masked=sales_service.masked_name(settings, customers[d.customer_id]),
        customer_phone_masked=customers[d.customer_id].phone_masked, unit_id=d.unit_id,
        unit_label=units.get(d.unit_id) if d.unit_id else None, parent_id=d.parent_id,
        kind=d.kind, kind_name=KIND_NAMES[Kind(d.kind)], status=d.status,
        status_name=STATUS_NAMES[Status(d.status)],
        buyer_name=mask_name(documents.buyer_name(settings, d)) or "",
        payment_method=d.payment_method,
        payment_method_name=PAYMENT_METHODS.get(d.payment_method, d.payment_method),
        price_fen=d.price_fen, list_price_fen=d.list_price_fen,
        floor_price_fen=d.floor_price_fen if floor else None, amount_fen=d.amount_fen,
        carried_fen=d.carried_fen, consultant_id=d.consultant_id,
        consultant_name=names.get(d.consultant_id), created_by=d.created_by,
        created_at=d.created_at, submitted_at=d.submitted_at, approved_at=d.approved_at,
        contract_due_at=d.contract_due_at, decision_note=d.decision_note,
        ended_reason=d.ended_reason) for d in deals]
