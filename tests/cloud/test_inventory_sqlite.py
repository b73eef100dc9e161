"""The inventory on SQLite (the demo's database), migrated by Alembic: import, release,
销控, 预留 with expiry and the grid behave as on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlmodel import Session, col, select

from cloud.catalog import service as catalog_service
from cloud.identity.models import User
from cloud.inventory import grid, holds, importing, releases, scope, transitions
from cloud.inventory.errors import ImportRejected, StateChanged
from cloud.inventory.models import Unit, UnitLog
from cloud.inventory.states import Action
from cloud.migrate import upgrade
from tests.cloud.inventory_world import principal, sheet, tower
from tests.conftest import make_settings


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    engine = create_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        catalog_service.create_site(session, principal=None, site_id="site-a", name="A",
                                    actor="test")
        catalog_service.create_project(session, principal=None, site_id="site-a",
                                       name="项目", actor="test")
        for name in ("manager", "consultant"):
            session.add(User(username=name, password_hash="-", display_name=name))
        session.commit()
        yield session
    engine.dispose()


def test_the_whole_path_on_sqlite(lite: Session, tmp_path: Path) -> None:
    manager, consultant = principal(1, "sales_manager"), principal(2, "consultant")
    with pytest.raises(ImportRejected):
        importing.import_units(lite, manager, project_id=1, data=sheet(
            [*tower(floors=1), ["1号楼", 1, "101", "两室", 80, 1, 2]]))
    lite.rollback()
    assert lite.exec(select(Unit)).all() == []
    importing.import_units(lite, manager, project_id=1, data=sheet(tower(floors=2)))
    lite.commit()
    ids = [u.id or 0 for u in lite.exec(select(Unit).order_by(col(Unit.id))).all()]
    releases.release(lite, manager, project_id=1, name="首开", kind="first_opening",
                     unit_ids=ids[:2])
    lite.commit()
    assert len([c for b in grid.read(lite, consultant, 1)["buildings"]
                for f in b["floors"] for c in f["units"]]) == 2
    asked = holds.request(lite, consultant, holds.HoldRequest(ids[0], "客户意向", 1))
    holds.approve(lite, manager, asked.id or 0, "同意")
    lite.commit()
    lite.execute(update(Unit).where(col(Unit.id) == ids[0])
                 .values(hold_until=asked.requested_at - timedelta(days=1)))
    assert holds.expire(lite, make_settings(f"sqlite:///{tmp_path / 'cloud.db'}")) == {
        "expired": 1}
    lite.commit()
    # A unit read before someone else moved it is refused, not overwritten.
    stale = scope.unit(lite, manager, ids[1])
    lite.execute(update(Unit).where(col(Unit.id) == ids[1]).values(state="controlled")
                 .execution_options(synchronize_session=False))
    with pytest.raises(StateChanged):
        transitions.apply(lite, stale, transitions.Move(Action.CONTROL, "保留"),
                          principal=manager)
    lite.rollback()
    actions = [log.action for log in lite.exec(select(UnitLog).order_by(col(UnitLog.id)))]
    assert actions == ["release", "release", "reserve", "expire"]


def test_the_demo_units_seed_once(lite: Session) -> None:
    from cloud.identity import service as identity_service
    from cloud.inventory import demo
    from cloud.inventory.models import UnitHold

    people = [identity_service.create_user(
        lite, username=name, password="Demo#Pass-2026", display_name=name, roles=[role],
        site_ids=["site-a"], must_change_password=False, actor="test")
        for name, role in (("zhaomin", "sales_manager"), ("wanglei", "consultant"))]
    lite.commit()
    demo.seed(lite, project_id=1, manager=people[0], consultant=people[1])
    lite.commit()
    assert demo.seeded(lite, 1)
    states = [u.state for u in lite.exec(select(Unit)).all()]
    assert len(states) == 18 * 4 + 12 * 2
    assert (states.count("available"), states.count("controlled")) == (38, 2)
    prices = lite.exec(select(Unit.list_price_fen, Unit.floor_price_fen)).all()
    assert all(0 < low < high for high, low in prices)
    assert [h.status for h in lite.exec(select(UnitHold)).all()] == ["pending"]
    seen = grid.read(lite, principal(people[1].id or 0, "consultant"), 1)
    assert [b["name"] for b in seen["buildings"]] == ["1号楼"]
