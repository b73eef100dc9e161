"""Deal documents through the service on the real database: saving holds the unit,
prices against the floor and the approver's authority, conversion 认筹 → 认购 → 签约
carrying the money, the unit and the customer's stage following each step, and every
step audited with its amounts."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.deals import payments, service
from cloud.deals.errors import (
    BelowFloorPrice,
    CustomerNotFound,
    DealNotFound,
    DiscountNotAuthorised,
    OwnApproval,
    UnitTaken,
    UnitUnavailable,
)
from cloud.deals.models import Deal
from cloud.deals.states import Kind, Status
from cloud.inventory.models import Unit, UnitLog
from cloud.inventory.states import State
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from cloud.sync.models import DownFeed
from tests.cloud import audit_rows
from tests.cloud.deal_world import Office, approved, build_office, subscribe, terms
from tests.cloud.inventory_world import principal


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> Office:
    return build_office(db, settings)


def _unit(db: Session, unit_id: int | None) -> Unit:
    found = db.get(Unit, unit_id, populate_existing=True)
    assert found is not None
    return found


def _customer(db: Session, office: Office) -> Customer:
    found = db.get(Customer, office.customer_id, populate_existing=True)
    assert found is not None
    return found


def test_a_saved_subscription_holds_its_unit_and_a_second_is_refused(
        db: Session, settings: CloudSettings, office: Office) -> None:
    unit = office.unit(0)
    deal = subscribe(db, settings, office, unit)

    assert deal.status == Status.DRAFT
    assert _unit(db, unit.id).state == State.SUBSCRIBED
    assert _customer(db, office).status == "subscribed"
    log = db.exec(select(UnitLog).where(UnitLog.unit_id == unit.id, UnitLog.action == "subscribe")
                  ).one()
    assert log.actor_id == office.consultant.user_id and f"#{deal.id}" in log.reason
    with pytest.raises(UnitTaken) as refused:
        subscribe(db, settings, office, unit, seller=office.manager)
    assert refused.value.status == 409 and "不能重复" in refused.value.detail
    db.rollback()
    assert [r.detail["price_fen"] for r in audit_rows(db, "deal.create")] == [
        unit.list_price_fen]


def test_the_database_refuses_a_second_live_deal_on_a_unit(
        db: Session, settings: CloudSettings, office: Office) -> None:
    """Past every check of the service: the partial unique index itself."""
    first = subscribe(db, settings, office, office.unit(0))
    twin = Deal(**first.model_dump(exclude={"id"}))
    db.add(twin)
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    # An ended document does not count: cancelling frees the unit for the next.
    assert first.id is not None
    service.cancel(db, settings, office.consultant, first.id, "客户放弃")
    db.commit()
    assert _unit(db, office.unit(0).id).state == State.AVAILABLE
    again = subscribe(db, settings, office, office.unit(0), seller=office.manager)
    assert again.status == Status.DRAFT


def test_below_the_floor_price_is_refused_at_save(
        db: Session, settings: CloudSettings, office: Office) -> None:
    unit = office.unit(0)
    with pytest.raises(BelowFloorPrice) as refused:
        subscribe(db, settings, office, unit, price=unit.floor_price_fen - 1)
    assert refused.value.status == 422 and "底价" in refused.value.detail
    db.rollback()
    assert _unit(db, unit.id).state == State.AVAILABLE
    assert db.exec(select(Deal)).all() == []


def test_a_discount_needs_the_approvers_authority(
        db: Session, settings: CloudSettings, office: Office) -> None:
    """Between floor and list price: a sales manager may approve; a role without
    authority may not (by default the consultant has none: see cloud.deals.pricing)."""
    from cloud.deals import pricing, project_settings

    unit = office.unit(0)
    numbers = project_settings.of(db, office.project_id)
    with pytest.raises(DiscountNotAuthorised):
        pricing.check_authority({"consultant"}, numbers, unit.floor_price_fen,
                                unit.list_price_fen, unit.floor_price_fen)
    pricing.check_authority({"consultant"}, numbers, unit.list_price_fen,
                            unit.list_price_fen, unit.floor_price_fen)
    deal = subscribe(db, settings, office, unit, price=unit.floor_price_fen)
    approved(db, settings, office, deal)
    assert deal.status == Status.APPROVED
    assert _customer(db, office).status == "to_sign"
    assert deal.contract_due_at is not None and deal.approved_at is not None
    assert (deal.contract_due_at - deal.approved_at).days == 7


def test_no_one_approves_their_own_document(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = subscribe(db, settings, office, office.unit(0), seller=office.manager)
    assert deal.id is not None
    service.submit(db, office.manager, deal.id)
    with pytest.raises(OwnApproval):
        service.approve(db, settings, office.manager, deal.id, "")


def test_pledge_to_subscription_to_contract_carries_money_unit_and_stage(
        db: Session, settings: CloudSettings, office: Office) -> None:
    unit = office.unit(1)
    pledge = service.create(db, settings, office.consultant, kind=Kind.PLEDGE,
                            project_id=office.project_id, customer_id=office.customer_id,
                            terms=terms(None, amount=2_000_000, method="full"))
    db.commit()
    assert pledge.unit_id is None and _customer(db, office).status == "visited"
    approved(db, settings, office, pledge)
    assert pledge.id is not None
    payments.record(db, office.consultant, pledge.id, amount_fen=2_000_000, source="buyer",
                    received_at=None, note="认筹金")
    assert _customer(db, office).status == "pledged"

    sub = service.convert(db, settings, office.consultant, pledge.id, service.Conversion(
        unit_id=unit.id, payment_method="commercial_loan", price_fen=unit.list_price_fen,
        amount_fen=10_000_000))
    db.commit()
    assert db.get(Deal, pledge.id, populate_existing=True).status == Status.CONVERTED  # type: ignore[union-attr]
    assert sub.carried_fen == 2_000_000 and sub.parent_id == pledge.id
    assert _unit(db, unit.id).state == State.SUBSCRIBED
    assert _customer(db, office).status == "subscribed"
    approved(db, settings, office, sub)
    assert _customer(db, office).status == "to_sign"
    assert sub.id is not None
    payments.record(db, office.consultant, sub.id, amount_fen=8_000_000, source="buyer",
                    received_at=None, note="定金")

    contract = service.convert(db, settings, office.consultant, sub.id, service.Conversion(
        unit_id=None, payment_method="commercial_loan", price_fen=None, amount_fen=0))
    db.commit()
    # The contract rides on the subscription's hold until approved.
    assert contract.unit_carried and _unit(db, unit.id).state == State.SUBSCRIBED
    assert contract.carried_fen == 10_000_000 and contract.price_fen == unit.list_price_fen
    approved(db, settings, office, contract)
    assert _unit(db, unit.id).state == State.SIGNED
    assert _customer(db, office).status == "signed"
    assert not db.get(Deal, contract.id).unit_carried  # type: ignore[union-attr]
    actions = [r.action for r in db.exec(select(UnitLog).where(UnitLog.unit_id == unit.id)
                                         .order_by(col(UnitLog.id))).all()]
    assert actions == ["release", "subscribe", "sign"]


def test_cancelling_a_converted_draft_restores_the_pledge_and_its_unit(
        db: Session, settings: CloudSettings, office: Office) -> None:
    unit = office.unit(2)
    pledge = service.create(db, settings, office.consultant, kind=Kind.PLEDGE,
                            project_id=office.project_id, customer_id=office.customer_id,
                            terms=terms(unit, amount=2_000_000))
    db.commit()
    assert _unit(db, unit.id).state == State.PLEDGED
    approved(db, settings, office, pledge)
    assert pledge.id is not None
    sub = service.convert(db, settings, office.consultant, pledge.id, service.Conversion(
        unit_id=None, payment_method="full", price_fen=None, amount_fen=0))
    db.commit()
    assert sub.unit_id == unit.id and _unit(db, unit.id).state == State.PLEDGED
    assert sub.id is not None
    service.cancel(db, settings, office.consultant, sub.id, "改日再签")
    db.commit()
    assert db.get(Deal, pledge.id, populate_existing=True).status == Status.APPROVED  # type: ignore[union-attr]
    assert _unit(db, unit.id).state == State.PLEDGED
    assert _customer(db, office).status == "pledged"


def test_a_unit_in_control_or_another_project_cannot_be_sold(
        db: Session, settings: CloudSettings, office: Office) -> None:
    from cloud.inventory import transitions
    from cloud.inventory.states import Action

    unit = office.unit(0)
    transitions.apply(db, unit, transitions.Move(Action.CONTROL, "领导保留"),
                      principal=office.manager)
    db.commit()
    with pytest.raises(UnitUnavailable):
        subscribe(db, settings, office, unit)
    db.rollback()
    other = principal(office.world["consult_b"], "consultant", site_ids=["site-b"])
    with pytest.raises(DealNotFound.__base__):  # the project is not theirs
        service.create(db, settings, other, kind=Kind.SUBSCRIPTION,
                       project_id=office.project_id, customer_id=office.customer_id,
                       terms=terms(office.unit(1)))


def test_a_consultant_sells_only_to_their_own_customers(
        db: Session, settings: CloudSettings, office: Office) -> None:
    colleague = principal(office.world["consult_a2"], "consultant")
    with pytest.raises(CustomerNotFound):
        subscribe(db, settings, office, office.unit(0), seller=colleague)
    db.rollback()
    deal = subscribe(db, settings, office, office.unit(0))
    assert deal.id is not None
    with pytest.raises(DealNotFound):
        service.submit(db, colleague, deal.id)


def test_the_customers_appliance_learns_the_stage_and_payment_method_of_a_deal(
        db: Session, settings: CloudSettings, office: Office) -> None:
    """The consultant's phone filters by stage and payment method offline (ADR 0039): each
    step of a document tells the customer's appliance, and an ended document clears it."""

    def fed() -> tuple[str, str, str | None]:
        item = db.exec(select(DownFeed).where(DownFeed.kind == "customer",
                                              DownFeed.site_id == "site-a")
                       .order_by(col(DownFeed.offset).desc())).first()
        assert item is not None
        return item.data["customer_ref"], item.data["status"], item.data["payment_method"]

    deal = subscribe(db, settings, office, office.unit(0))
    assert fed() == (str(office.customer_id), "subscribed", "commercial_loan")
    approved(db, settings, office, deal)
    assert fed() == (str(office.customer_id), "to_sign", "commercial_loan")
    assert _customer(db, office).payment_method == "commercial_loan"
    assert deal.id is not None
    service.mark_overdue_one(db, db.get(Deal, deal.id) or deal)
    service.void(db, settings, office.manager, deal.id, "逾期未签约")
    db.commit()
    assert fed() == (str(office.customer_id), "void", None)
    assert _customer(db, office).payment_method is None
