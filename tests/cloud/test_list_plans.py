"""Issue #24: the list endpoints walk their keyset indexes. EXPLAIN of the very statements
the services send, on tens of thousands of seeded rows (the plan at a million is the
same shape; the benchmark times it there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.identity.principal import Principal
from cloud.sales import follow_ups, visits
from tests.bench.seed import SeedSite, seed

HQ = Principal(user_id=1, username="hq", display_name="hq", roles=frozenset(),
               permissions=frozenset(), site_ids=None, ip=None)
SITE_A = Principal(user_id=1, username="a", display_name="a", roles=frozenset(),
                   permissions=frozenset(), site_ids=frozenset({"site-a"}), ip=None)


def _sent(engine: Engine, run: Callable[[], object]) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def _plan(engine: Engine, statement: str, parameters: Any) -> list[tuple[str, str, str]]:
    """Each node of the plan: (node type, relation, index)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).all()
    nodes: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append((node["Node Type"], node.get("Relation Name", ""),
                      node.get("Index Name", "")))
        for child in node.get("Plans", []):
            walk(child)

    walk(rows[0][0][0]["Plan"])
    return nodes


def _seeded(db: Session, world: dict[str, Any]) -> Engine:
    engine = db.get_bind()
    assert isinstance(engine, Engine)
    sites = [SeedSite(s, world[s].project_id, (world["consult_a" if s == "site-a" else
                                                     "consult_b"],))
             for s in ("site-a", "site-b")]
    seed(engine, sites, customers=4000, visits=40_000, follow_ups=20_000, phone_enc="x")
    return engine


def test_visit_pages_walk_the_keyset_indexes(db: Session, world: dict[str, Any]) -> None:
    engine = _seeded(db, world)
    empty = visits.VisitFilter()
    for principal, index in ((HQ, "ix_visit_occurred_id"), (SITE_A, "ix_visit_site_occurred_id")):
        first = visits.list_page(db, principal=principal, filters=empty, limit=20)
        assert first.next_cursor is not None
        for cursor in (None, first.next_cursor):
            sent = _sent(engine, lambda p=principal, c=cursor: visits.list_page(
                db, principal=p, filters=empty, limit=20, cursor=c))
            page_sql, params = sent[0]
            plan = _plan(engine, page_sql, params)
            assert any(i == index for _, _, i in plan), plan
            assert not any(t == "Sort" or (t == "Seq Scan" and r == "visit")
                           for t, r, _ in plan), plan
        db.rollback()


def test_the_visit_total_reads_the_day_counts(db: Session, world: dict[str, Any]) -> None:
    """The exact total of a list without a customer, consultant or phone filter sums the
    day counts; it reads neither the visits nor their customers."""
    engine = _seeded(db, world)
    for principal in (HQ, SITE_A):
        sent = _sent(engine, lambda p=principal: visits.count(db, principal=p,
                                                             filters=visits.VisitFilter()))
        plan = _plan(engine, *sent[0])
        relations = {r for _, r, _ in plan if r}
        assert relations == {"visit_day_count"}, plan


def test_follow_ups_of_a_customer_walk_their_index(db: Session,
                                                   world: dict[str, Any]) -> None:
    engine = _seeded(db, world)
    seeded = db.connection().exec_driver_sql(
        "SELECT customer_id FROM follow_up GROUP BY customer_id LIMIT 1").scalar_one()
    sent = _sent(engine, lambda: follow_ups.list_for_customer(
        db, principal=HQ, customer_id=seeded, limit=50))
    statement, params = next((s, p) for s, p in sent if "FROM follow_up" in s)
    plan = _plan(engine, statement, params)
    # A customer has a handful of follow-ups: the planner may sort those few rows.
    assert any(i == "ix_follow_up_customer_occurred_id" for _, _, i in plan), plan
