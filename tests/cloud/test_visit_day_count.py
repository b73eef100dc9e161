"""Issue #24: the visit list's exact total comes from visit_day_count, which the database's
triggers keep right through inserts, key changes, other updates and deletes — on both
backends as deployed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.catalog.models import Project, Site
from cloud.db import make_engine
from cloud.identity.principal import Principal
from cloud.migrate import upgrade
from cloud.sales import visits
from cloud.sales.models import Customer, Visit, VisitDayCount
from shared.timeutil import utcnow
from tests.cloud.migration_drift import drift

HQ = Principal(user_id=1, username="hq", display_name="hq", roles=frozenset(),
               permissions=frozenset(), site_ids=None, ip=None)
SITE_A = Principal(user_id=1, username="a", display_name="a", roles=frozenset(),
                   permissions=frozenset(), site_ids=frozenset({"site-a"}), ip=None)
DAY = date(2026, 11, 20)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        request.getfixturevalue("db")  # empties the tables afterwards
        yield request.getfixturevalue("engine")
        return
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _world(session: Session) -> tuple[int, int, list[int]]:
    session.add_all([Site(id="site-a", name="A"), Site(id="site-b", name="B")])
    session.flush()
    a, b = Project(site_id="site-a", name="甲"), Project(site_id="site-b", name="乙")
    session.add_all([a, b])
    session.flush()
    assert a.id is not None and b.id is not None
    now = utcnow()
    customers = [Customer(project_id=a.id if i % 2 else b.id, phone_enc="x",
                          phone_bidx=f"b{i}", phone34_bidx=f"m{i}", phone_masked="138****0000",
                          first_visit_at=now, last_visit_at=now, protection_until=now)
                 for i in range(40)]
    session.add_all(customers)
    session.flush()
    return a.id, b.id, [c.id for c in customers if c.id is not None]


def _visit_rows(project_a: int, project_b: int, customers: list[int]) -> list[dict[str, object]]:
    rows = []
    for n, customer in enumerate(customers):
        for day in range(3):  # three days each, so each customer has a first and returns
            on_a = n % 2 == 1
            at = utcnow() - timedelta(days=day)
            rows.append({
                "id": f"v{n}-{day}", "site_id": "site-a" if on_a else "site-b",
                "project_id": project_a if on_a else project_b, "customer_id": customer,
                "party_size": 1, "source": "kiosk", "is_first_visit": day == 2,
                "visit_date": DAY - timedelta(days=day), "occurred_at": at,
                "edge_occurred_at": at, "event_seq": n * 3 + day, "created_at": at})
    return rows


def _assert_totals_exact(session: Session, project_a: int) -> None:
    """Every filter the day counts serve, against a count of the visits themselves."""
    filters = [visits.VisitFilter(), visits.VisitFilter(site_id="site-b"),
               visits.VisitFilter(project_id=project_a),
               visits.VisitFilter(first_visit=True), visits.VisitFilter(first_visit=False),
               visits.VisitFilter(date_from=DAY - timedelta(days=1)),
               visits.VisitFilter(date_from=DAY - timedelta(days=1), date_to=DAY - timedelta(1))]
    for principal in (HQ, SITE_A):
        for f in filters:
            direct = select(func.count()).select_from(Visit)
            if principal.site_ids is not None:
                direct = direct.where(col(Visit.site_id).in_(principal.site_ids))
            for column, value in (("site_id", f.site_id), ("project_id", f.project_id),
                                  ("is_first_visit", f.first_visit)):
                if value is not None:
                    direct = direct.where(getattr(Visit, column) == value)
            if f.date_from:
                direct = direct.where(col(Visit.visit_date) >= f.date_from)
            if f.date_to:
                direct = direct.where(col(Visit.visit_date) <= f.date_to)
            assert visits.count(session, principal=principal, filters=f) == \
                session.exec(direct).one(), (principal.username, f)


def test_day_counts_follow_every_change_of_the_visits(any_engine: Engine) -> None:
    with Session(any_engine) as session:
        project_a, project_b, customers = _world(session)
        # One statement for many rows, as the sync apply writes a batch.
        session.execute(insert(Visit), _visit_rows(project_a, project_b, customers))
        session.commit()
        assert visits.count(session, principal=HQ, filters=visits.VisitFilter()) == 120
        _assert_totals_exact(session, project_a)

        # A correction that changes the key columns of some rows: first → return, and a
        # visit booked on the wrong site moved to the right one.
        session.execute(update(Visit).where(col(Visit.id).in_(["v0-2", "v2-2"]))
                        .values(is_first_visit=False))
        session.execute(update(Visit).where(Visit.id == "v4-1")
                        .values(site_id="site-a", project_id=project_a))
        # An update of no key column (the erasure blanks the intent) moves no count.
        session.execute(update(Visit).where(col(Visit.id).like("v1-%")).values(intent_enc=None))
        session.commit()
        _assert_totals_exact(session, project_a)

        session.execute(delete(Visit).where(col(Visit.customer_id).in_(customers[:5])))
        session.commit()
        assert visits.count(session, principal=HQ, filters=visits.VisitFilter()) == 105
        _assert_totals_exact(session, project_a)
        # The sum reads the day rows, a handful, not the visits.
        assert session.exec(select(func.count()).select_from(VisitDayCount)).one() <= 12


def test_selective_filters_still_count_the_visits(any_engine: Engine) -> None:
    """A customer's or a consultant's visits are not in the day counts: those filters
    count the visits by their own index, and the total stays exact."""
    with Session(any_engine) as session:
        project_a, project_b, customers = _world(session)
        session.execute(insert(Visit), _visit_rows(project_a, project_b, customers))
        session.commit()
        one = visits.VisitFilter(customer_id=customers[3])
        assert visits.count(session, principal=HQ, filters=one) == 3
        assert visits.count(session, principal=SITE_A, filters=one) == 3  # customer 3: site A
        assert visits.count(session, principal=SITE_A,
                            filters=visits.VisitFilter(customer_id=customers[2])) == 0


def test_model_and_migration_agree(engine: Engine) -> None:
    assert drift(engine, {"visit_day_count"}) == []
