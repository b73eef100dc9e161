"""The per-project deal settings (交易设置): read with their defaults, set by the sales
director (audited); the discount authority each role holds in the project; and the sweep
that cancels drafts left past the project's age, giving their units back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from cloud.deals import pricing, project_settings, service
from cloud.deals.errors import DiscountNotAuthorised
from cloud.deals.models import Deal, DealSetting
from cloud.deals.states import Kind, Status
from cloud.inventory.models import Unit
from cloud.inventory.states import State
from cloud.jobs import registry
from cloud.settings import CloudSettings
from shared.timeutil import utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.cloud.deal_world import Office, approved, build_office, subscribe, terms
from tests.cloud.inventory_world import principal

DEFAULTS = {"contract_days": 7, "pick_hold_minutes": 15, "draft_days": 3,
            "manager_discount_pct": 100,
            "director_discount_pct": 100}


@pytest.fixture
def office(db: Session, settings: CloudSettings) -> Office:
    return build_office(db, settings, floors=2, per_floor=3)


def _url(office: Office) -> str:
    return f"/api/v1/deals/projects/{office.project_id}/settings"


def test_the_director_sets_the_numbers_and_the_change_is_audited(
        client: TestClient, db: Session, office: Office) -> None:
    make_user(db, "zongjian", roles=["sales_director"], site_ids=["site-a"])
    consultant = signed_in(client, "consult_a")
    read = client.get(_url(office), headers=consultant)
    assert read.status_code == 200, read.text
    assert {k: read.json()[k] for k in DEFAULTS} == DEFAULTS

    wanted = {**DEFAULTS, "contract_days": 10, "draft_days": 2, "manager_discount_pct": 40}
    manager = client.put(_url(office), headers=signed_in(client, "manager_a"), json=wanted)
    assert manager.status_code == 403, manager.text
    saved = client.put(_url(office), headers=signed_in(client, "zongjian"), json=wanted)
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in DEFAULTS} == wanted
    assert client.get(_url(office), headers=consultant).json()["manager_discount_pct"] == 40

    [row] = audit_rows(db, "deal.settings")
    assert row.actor == "zongjian" and row.object_id == str(office.project_id)
    assert row.detail["before"] == DEFAULTS and row.detail["after"] == wanted

    refused = client.put(_url(office), headers=signed_in(client, "zongjian"),
                         json={**wanted, "manager_discount_pct": 101})
    assert refused.status_code == 422
    assert problem(refused)["code"] == "validation_failed"


def test_each_role_approves_within_its_authority_in_the_project(
        db: Session, settings: CloudSettings, office: Office) -> None:
    """The manager's authority cut to 40 %: a price at the floor needs the director; one
    within 40 % of the way down the manager approves. The document shows each approver's
    lowest price."""
    project_settings.save(db, principal(office.world["hqadmin"], "sales_director"),
                          office.project_id, project_settings.DealNumbers(
                              **{**DEFAULTS, "manager_discount_pct": 40}))
    director = principal(office.world["hqadmin"], "sales_director")
    unit = office.unit(0)
    deal = subscribe(db, settings, office, unit, price=unit.floor_price_fen)
    assert deal.id is not None
    service.submit(db, office.consultant, deal.id)
    db.commit()
    with pytest.raises(DiscountNotAuthorised) as refused:
        service.approve(db, settings, office.manager, deal.id, "")
    assert "最低可批" in str(refused.value.detail)
    db.rollback()
    service.approve(db, settings, director, deal.id, "总监审批")
    db.commit()
    assert db.get(Deal, deal.id).status == Status.APPROVED  # type: ignore[union-attr]

    reach = (unit.list_price_fen - unit.floor_price_fen) * 40 // 100
    other = office.unit(1)
    near = subscribe(db, settings, office, other, price=other.list_price_fen - reach,
                     customer_id=office.customer_id)
    approved(db, settings, office, near)
    assert near.status == Status.APPROVED

    numbers = project_settings.of(db, office.project_id)
    assert pricing.lowest_approvable({"sales_manager"}, numbers, 1_000_000, 0) == 600_000
    assert pricing.lowest_approvable({"sales_director"}, numbers, 1_000_000, 0) == 0
    assert pricing.lowest_approvable({"consultant"}, numbers, 1_000_000, 0) == 1_000_000
    assert pricing.lowest_approvable({"hq_manager"}, numbers, 1_000_000, 0) == 1_000_000


def _age(db: Session, deal: Deal, days: float) -> None:
    db.execute(update(Deal).where(col(Deal.id) == deal.id).values(
        updated_at=utcnow() - timedelta(days=days)))
    db.commit()


def _status(db: Session, deal: Deal) -> str:
    db.refresh(deal)
    return deal.status


def _state(db: Session, unit: Unit) -> str:
    db.refresh(unit)
    return unit.state


def test_the_sweep_cancels_drafts_past_the_projects_age_and_frees_their_units(
        db: Session, settings: CloudSettings, office: Office) -> None:
    stale, fresh, waiting = (subscribe(db, settings, office, office.unit(i)) for i in range(3))
    assert waiting.id is not None
    service.submit(db, office.consultant, waiting.id)
    db.commit()
    _age(db, stale, 3.01)
    _age(db, fresh, 2.9)
    _age(db, waiting, 30)

    job = registry.jobs()["deals.expire_drafts"]
    assert job.run(db, settings) == {"expired": 1}
    db.commit()
    assert (_status(db, stale), _status(db, fresh), _status(db, waiting)) == (
        Status.CANCELLED, Status.DRAFT, Status.SUBMITTED)
    assert _state(db, office.unit(0)) == State.AVAILABLE
    assert _state(db, office.unit(1)) == State.SUBSCRIBED
    assert "系统自动取消" in stale.ended_reason
    [row] = audit_rows(db, "deal.expire")
    assert row.actor == "system" and row.object_id == str(stale.id)

    # A project that allows longer keeps the same age of draft.
    db.add(DealSetting(project_id=office.project_id, draft_days=10))
    db.commit()
    _age(db, fresh, 5)
    assert service.expire_drafts(db, settings) == {"expired": 0}
    _age(db, fresh, 10.01)
    assert service.expire_drafts(db, settings) == {"expired": 1}
    db.commit()
    assert _status(db, fresh) == Status.CANCELLED


def test_a_stale_converted_draft_gives_the_pledge_back_its_unit(
        db: Session, settings: CloudSettings, office: Office) -> None:
    unit = office.unit(4)
    pledge = service.create(db, settings, office.consultant, kind=Kind.PLEDGE,
                            project_id=office.project_id, customer_id=office.customer_id,
                            terms=terms(unit))
    db.commit()
    approved(db, settings, office, pledge)
    assert pledge.id is not None
    child = service.convert(db, settings, office.consultant, pledge.id, service.Conversion(
        unit_id=None, payment_method="full", price_fen=None, amount_fen=0))
    db.commit()
    _age(db, child, 4)
    assert service.expire_drafts(db, settings) == {"expired": 1}
    db.commit()
    assert (_status(db, child), _status(db, pledge)) == (Status.CANCELLED, Status.APPROVED)
    assert _state(db, unit) == State.PLEDGED
