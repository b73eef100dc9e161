"""开盘选房: approved pledges called by number, a missed call moved behind the next, a
chosen unit held for the pledge's subscription and refused to everyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from cloud.deals import opening, service
from cloud.deals.errors import QueueEmpty, UnitHeldForPick
from cloud.deals.models import Deal, DealCall
from cloud.deals.states import Kind
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud.deal_world import Office, add_customer, approved, build_office, terms


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> tuple[Office, list[Deal]]:
    place = build_office(db, settings)
    pledges = []
    for i in range(3):
        customer = add_customer(db, settings, place.project_id, f"1360000000{i}",
                                place.consultant.user_id)
        pledge = service.create(db, settings, place.consultant, kind=Kind.PLEDGE,
                                project_id=place.project_id, customer_id=customer.id or 0,
                                terms=terms(None, amount=2_000_000))
        db.commit()
        pledges.append(approved(db, settings, place, pledge))
    return place, pledges


def test_called_by_number_a_missed_call_moves_behind_the_next(
        db: Session, office: tuple[Office, list[Deal]]) -> None:
    place, pledges = office
    queue = opening.queue(db, place.manager, place.project_id)
    assert [(c.pledge_id, c.number) for c in queue] == [(p.id, n) for n, p in
                                                         enumerate(pledges, start=1)]
    first = opening.call_next(db, place.manager, place.project_id)
    assert first.number == 1
    opening.miss(db, place.manager, first.id or 0)
    # Number 2 is called next; number 1 comes right after it, before number 3.
    assert opening.call_next(db, place.manager, place.project_id).number == 2
    order = [c.number for c in opening.listing(db, place.manager, place.project_id)]
    assert order == [2, 1, 3]
    assert opening.call_next(db, place.manager, place.project_id).number == 1
    assert opening.call_next(db, place.manager, place.project_id).number == 3
    with pytest.raises(QueueEmpty):
        opening.call_next(db, place.manager, place.project_id)
    # Queueing again numbers nobody twice.
    assert len(opening.queue(db, place.manager, place.project_id)) == 3


def test_a_chosen_unit_is_held_for_that_pledge_only(
        db: Session, settings: CloudSettings, office: tuple[Office, list[Deal]]) -> None:
    place, pledges = office
    opening.queue(db, place.manager, place.project_id)
    call = opening.call_next(db, place.manager, place.project_id)
    unit = place.unit(0)
    held = opening.pick(db, place.manager, call.id or 0, unit.id or 0)
    db.commit()
    assert held.hold_until is not None
    assert timedelta(minutes=14) < held.hold_until - utcnow() <= timedelta(minutes=15)
    other = pledges[1]
    with pytest.raises(UnitHeldForPick):
        service.convert(db, settings, place.consultant, other.id or 0, service.Conversion(
            unit_id=unit.id, payment_method="full", price_fen=unit.list_price_fen,
            amount_fen=0))
    db.rollback()
    sub = service.convert(db, settings, place.consultant, pledges[0].id or 0,
                          service.Conversion(unit_id=unit.id, payment_method="full",
                                             price_fen=unit.list_price_fen, amount_fen=0))
    db.commit()
    assert sub.unit_id == unit.id
    assert db.get(DealCall, call.id, populate_existing=True).status == "done"  # type: ignore[union-attr]


def test_a_hold_that_ran_out_frees_the_unit(
        db: Session, settings: CloudSettings, office: tuple[Office, list[Deal]]) -> None:
    place, _ = office
    opening.queue(db, place.manager, place.project_id)
    first = opening.call_next(db, place.manager, place.project_id)
    opening.pick(db, place.manager, first.id or 0, place.unit(0).id or 0)
    db.execute(update(DealCall).where(col(DealCall.id) == first.id).values(
        hold_until=utcnow() - timedelta(seconds=1)))
    second = opening.call_next(db, place.manager, place.project_id)
    assert opening.pick(db, place.manager, second.id or 0, place.unit(0).id or 0).status == (
        "picked")
    assert db.get(DealCall, first.id, populate_existing=True).status == "lapsed"  # type: ignore[union-attr]
