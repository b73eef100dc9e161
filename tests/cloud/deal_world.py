"""A sales office ready to sell: two sites' worlds (tests/cloud/sales_world), a released
tower of units at site A and the people who sell and approve there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from cloud.deals import service
from cloud.deals.models import Deal
from cloud.deals.states import Kind
from cloud.identity.principal import Principal
from cloud.inventory import releases
from cloud.inventory.models import Unit
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud.inventory_world import load, principal
from tests.cloud.sales_world import build_world


@dataclass
class Office:
    world: dict[str, Any]
    project_id: int
    customer_id: int
    units: list[Unit]
    consultant: Principal
    manager: Principal
    hq: Principal

    def unit(self, index: int) -> Unit:
        return self.units[index]


def build_office(db: Session, settings: CloudSettings, *, floors: int = 3,
                 per_floor: int = 2, world: dict[str, Any] | None = None) -> Office:
    world = world or build_world(db, settings)
    project_id = world["site-a"].project_id
    manager = principal(world["manager_a"], "sales_manager")
    units = load(db, manager, project_id, floors=floors, per_floor=per_floor)
    releases.release(db, manager, project_id=project_id, name="首开", kind="first_opening",
                     unit_ids=[u.id or 0 for u in units])
    db.commit()
    for u in units:
        db.refresh(u)
    return Office(world, project_id, world["site-a"].customer_id, units,
                  principal(world["consult_a"], "consultant"), manager,
                  principal(world["hqadmin"], "hq_manager", site_ids=None))


def add_customer(db: Session, settings: CloudSettings, project_id: int, phone: str,
                 owner_id: int) -> Customer:
    """A customer of the project owned by `owner_id`, without a synced visit."""
    now = utcnow()
    customer = Customer(
        project_id=project_id, phone_enc=settings.cipher.encrypt(phone, context="customer.phone"),
        phone_bidx=settings.blind_index.phone(phone),
        phone34_bidx=settings.blind_index.phone_masked(phone),
        phone_masked=phone[:3] + "****" + phone[7:], owner_id=owner_id, visit_count=1,
        first_visit_at=now, last_visit_at=now, protection_until=now, owned_since=now)
    db.add(customer)
    db.commit()
    return customer


def terms(unit: Unit | None, *, price: int | None = None, amount: int = 5_000_000,
          method: str = "commercial_loan") -> service.Terms:
    return service.Terms(
        unit_id=unit.id if unit else None, buyer_name="张三", payment_method=method,
        price_fen=price if price is not None else (unit.list_price_fen if unit else 0),
        amount_fen=amount)


def subscribe(db: Session, settings: CloudSettings, office: Office, unit: Unit, *,
              seller: Principal | None = None, price: int | None = None,
              customer_id: int | None = None) -> Deal:
    deal = service.create(db, settings, seller or office.consultant, kind=Kind.SUBSCRIPTION,
                          project_id=office.project_id,
                          customer_id=customer_id or office.customer_id,
                          terms=terms(unit, price=price))
    db.commit()
    return deal


def approved(db: Session, settings: CloudSettings, office: Office, deal: Deal) -> Deal:
    assert deal.id is not None
    service.submit(db, office.consultant, deal.id)
    service.approve(db, settings, office.manager, deal.id, "同意")
    db.commit()
    return deal


def matrix_deals(db: Session, settings: CloudSettings, world: dict[str, Any]
                 ) -> dict[str, dict[str, int]]:
    """For each side of the authorisation matrix: deal documents in the state each route
    acts on, sold by the site's consultant and approved by a manager, a pending change
    for each decision, and an opening-day queue with a waiting and two called numbers."""
    from cloud.deals import changes, opening

    found: dict[str, dict[str, int]] = {}
    manager = principal(world["manager_a"], "sales_manager", site_ids=None)
    for side, site, consultant in (("own", "site-a", "consult_a"),
                                   ("other", "site-b", "consult_b")):
        project_id = world[site].project_id
        seller = principal(world[consultant], "consultant", site_ids=[site])
        units = [u for u in load(db, manager, project_id, building="2号楼", floors=5,
                                 per_floor=2) if u.state == "unreleased"][-10:]
        releases.release(db, manager, project_id=project_id, name="矩阵加推", kind="add_on",
                         unit_ids=[u.id or 0 for u in units])
        # A buyer of their own: the site's visit customer keeps its stage for the
        # customer routes of the matrix.
        customer_id = add_customer(db, settings, project_id,
                                   "1350000000" + ("1" if side == "own" else "2"),
                                   world[consultant]).id or 0

        def sell(kind: Kind, unit: Unit | None, *, submit: bool = False,
                 approve: bool = False, seller: Principal = seller, project_id: int = project_id,
                 customer_id: int = customer_id) -> Deal:
            deal = service.create(db, settings, seller, kind=kind, project_id=project_id,
                                  customer_id=customer_id, terms=terms(unit))
            if submit or approve:
                service.submit(db, seller, deal.id or 0)
            if approve:
                service.approve(db, settings, manager, deal.id or 0, "矩阵")
            return deal

        ids = {"project": project_id, "customer": customer_id, "unit": units[9].id or 0,
               "pick_unit": units[8].id or 0,
               "submit": sell(Kind.SUBSCRIPTION, units[0]).id or 0,
               "cancel": sell(Kind.SUBSCRIPTION, units[1]).id or 0,
               "approve": sell(Kind.SUBSCRIPTION, units[2], submit=True).id or 0,
               "reject": sell(Kind.SUBSCRIPTION, units[3], submit=True).id or 0,
               "convert": sell(Kind.PLEDGE, None, approve=True).id or 0,
               "change": sell(Kind.SUBSCRIPTION, units[4], approve=True).id or 0}
        for name, unit in (("apply_change", units[5]), ("reject_change", units[6])):
            deal = sell(Kind.SUBSCRIPTION, unit, approve=True)
            ids[name] = changes.request(db, settings, seller, deal.id or 0, changes.ChangeAsk(
                "rename", "矩阵更名", new_buyer_name="王五")).id or 0
        overdue = sell(Kind.SUBSCRIPTION, units[7], approve=True)
        service.mark_overdue_one(db, overdue)
        ids["void"] = overdue.id or 0
        for _ in range(3):
            sell(Kind.PLEDGE, None, approve=True)
        opening.queue(db, manager, project_id)
        opening.call_next(db, manager, project_id)  # the "convert" pledge, first approved
        ids["miss"] = opening.call_next(db, manager, project_id).id or 0
        ids["pick"] = opening.call_next(db, manager, project_id).id or 0
        db.commit()
        found[side] = ids
    return found
