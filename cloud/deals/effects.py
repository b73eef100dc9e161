"""What a deal document does to the rest of the office: the unit's state (through the
inventory's compare-and-set and its 销控 log), the customer's sales stage, and the
attribution engine's deal fact."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from cloud.channel.models import Referral
from cloud.channel.redecide import redecide
from cloud.channel.referrals import LIVE_STATES
from cloud.deals.errors import UnitUnavailable
from cloud.deals.models import Deal
from cloud.deals.states import LIVE, Kind
from cloud.identity.principal import Principal
from cloud.inventory import transitions
from cloud.inventory.errors import StateChanged, TransitionByDeal, TransitionRefused
from cloud.inventory.models import Unit
from cloud.inventory.states import Action as UnitAction
from cloud.inventory.states import Driver
from cloud.sales import stages
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from cloud.sync import feed

# The unit action that gives a unit each kind's state.
TAKE = {Kind.PLEDGE: UnitAction.PLEDGE, Kind.SUBSCRIPTION: UnitAction.SUBSCRIBE,
        Kind.CONTRACT: UnitAction.SIGN}


def move_unit(session: Session, principal: Principal | None, unit_id: int,
              action: UnitAction, reason: str) -> Unit:
    unit = session.get(Unit, unit_id, populate_existing=True)
    assert unit is not None
    try:
        transitions.apply(session, unit, transitions.Move(action, reason),
                          principal=principal, driver=Driver.DEAL)
    except (TransitionRefused, StateChanged, TransitionByDeal) as refused:
        raise UnitUnavailable() from refused
    return unit


def take_unit(session: Session, principal: Principal | None, deal: Deal, unit_id: int,
              reason: str) -> None:
    """A unit newly held by `deal` takes the document's state; a contract's new unit (a
    换房 after signing) passes through 认购 as the inventory's table asks."""
    if deal.kind == Kind.CONTRACT:
        move_unit(session, principal, unit_id, UnitAction.SUBSCRIBE, reason)
    move_unit(session, principal, unit_id, TAKE[Kind(deal.kind)], reason)


def stage(customer: Customer, target: str) -> None:
    """Move the customer's stage where the stage table lets a deal move it. A customer
    already elsewhere (buying a second unit, a stage set by another document) keeps
    theirs: the stage follows the customer's most advanced live document, not each one."""
    if customer.status == target:
        return
    if stages.DEAL in stages.TRANSITIONS.get((customer.status, target), frozenset()):
        stages.apply_deal(customer, target)


def fall_back(session: Session, customer: Customer, ended: Deal, target: str) -> None:
    """A document ended: the customer moves back to `target` only when no other live
    document of theirs remains — one of two drafts given up leaves them where the other
    keeps them."""
    other = session.exec(select(Deal.id).where(
        Deal.customer_id == customer.id, col(Deal.id) != ended.id,
        col(Deal.status).in_([s.value for s in LIVE])).limit(1)).first()
    if other is None:
        stage(customer, target)


def tell_the_phone(session: Session, settings: CloudSettings, customer: Customer) -> None:
    """After a document moved: the customer states the payment method of their newest
    live document (none once every document ended), and the customer's appliance is told
    the stage and method, which the consultant's phone filters by offline (ADR 0039)."""
    session.flush()
    customer.payment_method = session.exec(
        select(Deal.payment_method).where(
            Deal.customer_id == customer.id, col(Deal.status).in_([s.value for s in LIVE]))
        .order_by(col(Deal.id).desc()).limit(1)).first()
    session.add(customer)
    feed.announce_customer(session, settings, customer)


def attribution_fact(session: Session, settings: CloudSettings, customer: Customer,
                     at: datetime) -> int:
    """An approved document is a deal milestone the channel's 判客 takes as a fact
    (cloud.channel.history reads it): judge the customer's live referrals again now, so
    a milestone inside protection locks the channel's claim at once. The count judged."""
    match = (col(Referral.phone_bidx) == customer.phone_bidx) | (
        col(Referral.phone_bidx).is_(None)
        & (col(Referral.phone34_bidx) == customer.phone34_bidx))
    live = session.exec(select(Referral).where(
        Referral.project_id == customer.project_id, col(Referral.state).in_(LIVE_STATES),
        match).order_by(col(Referral.id))).all()
    for row in live:
        redecide(session, settings=settings, row=row, as_of=at)
    return len(live)
