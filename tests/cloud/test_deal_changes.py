"""Changes under approval (退房, 换房, 更名, price), the overdue subscription voided by a
manager, and money received — on the real database, through the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from cloud.deals import changes, documents, payments, service
from cloud.deals.errors import (
    OwnApproval,
    PaymentRefused,
    UnitTaken,
)
from cloud.deals.models import Deal
from cloud.deals.states import DealStepRefused, Kind, Status
from cloud.inventory.models import Unit, UnitLog
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import audit_rows
from tests.cloud.deal_world import Office, approved, build_office, subscribe
from tests.cloud.inventory_world import principal


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> Office:
    return build_office(db, settings)


def _state(db: Session, unit: Unit) -> str:
    found = db.get(Unit, unit.id, populate_existing=True)
    assert found is not None
    return found.state


def _stage(db: Session, office: Office) -> str:
    found = db.get(Customer, office.customer_id, populate_existing=True)
    assert found is not None
    return found.status


def _sold(db: Session, settings: CloudSettings, office: Office, index: int = 0) -> Deal:
    return approved(db, settings, office, subscribe(db, settings, office, office.unit(index)))


def _apply(db: Session, settings: CloudSettings, office: Office, deal: Deal,
           ask: changes.ChangeAsk) -> Deal:
    assert deal.id is not None
    change = changes.request(db, settings, office.consultant, deal.id, ask)
    db.commit()
    assert db.get(Deal, deal.id, populate_existing=True).status == Status.CHANGE_PENDING  # type: ignore[union-attr]
    changes.apply(db, settings, office.manager, change.id or 0, "同意")
    db.commit()
    found = db.get(Deal, deal.id, populate_existing=True)
    assert found is not None
    return found


def test_cancellation_returns_the_unit_and_the_customer(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = _sold(db, settings, office)
    after = _apply(db, settings, office, deal, changes.ChangeAsk("cancel", "客户资金不足"))
    assert after.status == Status.RETURNED and after.ended_reason == "客户资金不足"
    assert _state(db, office.unit(0)) == "available"
    assert _stage(db, office) == "visited"
    # The unit is free for the next buyer.
    assert subscribe(db, settings, office, office.unit(0), seller=office.manager).id


def test_a_swap_moves_the_deal_to_an_available_unit(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = _sold(db, settings, office)
    new = office.unit(3)
    after = _apply(db, settings, office, deal, changes.ChangeAsk(
        "swap", "换到高楼层", new_unit_id=new.id, new_price_fen=new.list_price_fen))
    assert after.status == Status.APPROVED and after.unit_id == new.id
    assert after.price_fen == new.list_price_fen
    assert (_state(db, office.unit(0)), _state(db, new)) == ("available", "subscribed")
    assert _stage(db, office) == "to_sign"
    moves = db.exec(select(UnitLog.unit_id, UnitLog.action).where(
        col(UnitLog.action).in_(["return", "subscribe"])).order_by(col(UnitLog.id))).all()
    assert moves[-2:] == [(office.unit(0).id, "return"), (new.id, "subscribe")]


def test_a_swap_onto_a_unit_sold_meanwhile_is_refused(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = _sold(db, settings, office)
    new = office.unit(3)
    assert deal.id is not None
    change = changes.request(db, settings, office.consultant, deal.id, changes.ChangeAsk(
        "swap", "换房", new_unit_id=new.id))
    db.commit()
    subscribe(db, settings, office, new, seller=office.manager)
    with pytest.raises(UnitTaken):
        changes.apply(db, settings, office.manager, change.id or 0, "")
    db.rollback()
    assert _state(db, office.unit(0)) == "subscribed"


def test_rename_keeps_the_unit_and_encrypts_the_new_name(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = _sold(db, settings, office)
    after = _apply(db, settings, office, deal, changes.ChangeAsk(
        "rename", "加名配偶", new_buyer_name="张三 李梅"))
    assert documents.buyer_name(settings, after) == "张三 李梅"
    assert "李梅" not in after.buyer_name_enc
    assert _state(db, office.unit(0)) == "subscribed"


def test_a_price_change_is_approved_by_another_and_audited(
        db: Session, settings: CloudSettings, office: Office) -> None:
    unit = office.unit(0)
    deal = _sold(db, settings, office)
    assert deal.id is not None
    change = changes.request(db, settings, office.consultant, deal.id, changes.ChangeAsk(
        "price", "团购优惠", new_price_fen=unit.floor_price_fen))
    db.commit()
    with pytest.raises(DealStepRefused):  # one pending change at a time
        changes.request(db, settings, office.manager, deal.id, changes.ChangeAsk(
            "rename", "再改", new_buyer_name="王五"))
    db.rollback()
    with pytest.raises(OwnApproval):
        changes.apply(db, settings, principal(office.consultant.user_id, "sales_manager"),
                      change.id or 0, "")
    db.rollback()
    changes.apply(db, settings, office.manager, change.id or 0, "同意")
    db.commit()
    assert db.get(Deal, deal.id, populate_existing=True).price_fen == unit.floor_price_fen  # type: ignore[union-attr]
    applied = audit_rows(db, "deal.apply_change")[-1].detail
    assert (applied["old_price_fen"], applied["price_fen"]) == (
        unit.list_price_fen, unit.floor_price_fen)


def test_an_overdue_subscription_waits_for_a_manager_to_void_it(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = _sold(db, settings, office)
    assert deal.id is not None
    assert service.mark_overdue(db, settings) == {"overdue": 0}
    db.execute(update(Deal).where(col(Deal.id) == deal.id).values(
        contract_due_at=utcnow() - timedelta(minutes=1)))
    assert service.mark_overdue(db, settings) == {"overdue": 1}
    db.commit()
    # Overdue is not void: the unit and the customer stay as they were.
    assert db.get(Deal, deal.id, populate_existing=True).status == Status.OVERDUE  # type: ignore[union-attr]
    assert (_state(db, office.unit(0)), _stage(db, office)) == ("subscribed", "to_sign")
    payments.record(db, office.consultant, deal.id, amount_fen=100, source="buyer",
                    received_at=None, note="")
    service.void(db, settings, office.manager, deal.id, "逾期未签约")
    db.commit()
    assert (_state(db, office.unit(0)), _stage(db, office)) == ("available", "void")
    assert audit_rows(db, "deal.void")[-1].detail["reason"] == "逾期未签约"
    # Never refunded automatically: the money received stays recorded.
    assert documents.received_fen(db, deal.id) == 100


def test_loan_money_counts_only_as_the_banks_disbursement(
        db: Session, settings: CloudSettings, office: Office) -> None:
    deal = _sold(db, settings, office)
    assert deal.id is not None and deal.payment_method == "commercial_loan"
    payments.record(db, office.consultant, deal.id, amount_fen=300_000_000, source="bank",
                    received_at=None, note="银行放款")
    db.commit()
    full = service.create(db, settings, office.manager, kind=Kind.SUBSCRIPTION,
                          project_id=office.project_id, customer_id=office.customer_id,
                          terms=service.Terms(office.unit(1).id, "张三", "full",
                                              office.unit(1).list_price_fen, 0))
    service.submit(db, office.manager, full.id or 0)
    with pytest.raises(PaymentRefused):
        payments.record(db, office.consultant, full.id or 0, amount_fen=1, source="bank",
                        received_at=None, note="")
    db.rollback()
    assert documents.received_fen(db, deal.id) == 300_000_000
