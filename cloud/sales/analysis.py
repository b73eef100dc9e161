"""销售分析: the figures of the rules page (到访组数, 来电转来访, 来访转成交, 去化率, 净签约)
and the funnel 储客 → 跟客 → 成交, grouped by one dimension, and the visitors' needs and
intentions by dimension. Each figure is one grouped SQL statement over the facts of
cloud.sales.analysis_facts; the definitions are docs/sales-analysis.md's and the API
schema's (cloud.sales.analysis_schemas).

Every count is additive over the groups (each fact has one key per dimension), so the
total row is the sum of the groups and each ratio is recomputed from its sums. A
subscription closed the day a stand-in received its customer (义务接待) is shared
between the two consultants (ADR 0056): its parts still add up to one deal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, literal, select
from sqlmodel import Session

from cloud.sales import analysis_facts as facts
from cloud.sales import analysis_labels as labels
from cloud.sales.analysis_facts import Scope
from shared.reception import DEFAULT_RULES
from shared.timeutil import as_utc, shanghai_date

INTENTION_FIELDS = ("grade", "purpose", "layout", "area", "budget", "awareness", "gender",
                    "region", "source")
SELL_THROUGH_DIMENSIONS = ("batch", "product", "team")
# Dimensions an incoming call has a key of (a call has no layout and no visit source).
CALL_DIMENSIONS = ("team", "consultant")
# 面积 (m²) and 预算 (万元) bands of the intention chart: each visitor's lower bound, or the
# upper one when only that is known.
AREA_BANDS = (90, 120, 144)
BUDGET_BANDS = (200, 300, 500)


@dataclass(frozen=True)
class Window:
    scope: Scope
    date_from: date
    date_to: date
    group_by: str | None = None


def _key(sub: Any, group_by: str | None) -> Any:
    return sub.c[group_by] if group_by else literal("all")


def _grouped(session: Session, fact: Select[Any], group_by: str | None,
             measures: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    """{key: {measure: value}} of `fact` grouped by `group_by` (one group "all" if None);
    `measures` are functions of the fact's subquery giving aggregates."""
    sub = fact.subquery("fact")
    key = _key(sub, group_by).label("key")
    stmt = select(key, *(make(sub).label(name) for name, make in measures.items()))
    # Ungrouped, an empty fact still gives one row of zeros; no facts, no group.
    stmt = stmt.group_by(key) if group_by else stmt.having(func.count(sub.c.id) > 0)
    return {row.key: {name: int(getattr(row, name) or 0) for name in measures}
            for row in session.execute(stmt)}


def _count() -> Any:
    return lambda sub: func.count(sub.c.id)


def _sum_if(condition: Any, value: Any = 1) -> Any:
    return func.sum(case((condition, value), else_=0))


def _ratio(part: int, whole: int | None) -> float | None:
    return None if not whole else round(part / whole, 4)


def figures(session: Session, w: Window) -> dict[str, Any]:
    """The rules page's figures of the window, per group and in total."""
    args = (w.scope, w.date_from, w.date_to)
    visit_rows = _grouped(session, facts.visits(*args), w.group_by, {
        "visits": _count(),
        "first_visits": lambda s: _sum_if(s.c.is_first_visit.is_(True)),
        "call_visits": lambda s: _sum_if(s.c.awareness == "call"),
    })
    deal_rows = _grouped(session, facts.deals(*args), w.group_by, {
        "pledges": lambda s: _sum_if(s.c.kind == "pledge"),
        "subscriptions": lambda s: _sum_if(s.c.kind == "subscription"),
        "subscription_amount_fen": lambda s: _sum_if(s.c.kind == "subscription", s.c.price_fen),
        "contracts": lambda s: _sum_if(s.c.kind == "contract"),
        "contract_amount_fen": lambda s: _sum_if(s.c.kind == "contract", s.c.price_fen),
    })
    change_rows = _grouped(session, facts.changes(*args), w.group_by, {
        "returns": lambda s: _sum_if(s.c.kind == "cancel"),
        "returned_amount_fen": lambda s: _sum_if(s.c.kind == "cancel", s.c.price_fen),
        "swaps": lambda s: _sum_if(s.c.kind == "swap"),
    })
    _stand_in_credit(session, w, deal_rows)
    by_call = w.group_by is None or w.group_by in CALL_DIMENSIONS
    call_rows = _grouped(session, facts.calls(*args), w.group_by if by_call else None,
                         {"calls": _count()})
    keys = _keys(visit_rows, deal_rows, change_rows, *((call_rows,) if by_call else ()))
    rows = [_figure_row(k, visit_rows, deal_rows, change_rows,
                        call_rows if by_call else {k: {"calls": None}}) for k in keys]
    calls = sum(r["calls"] for r in call_rows.values())
    return _labelled(session, w.group_by, rows, lambda rs: _figure_total(rs, calls))


def _stand_in_credit(session: Session, w: Window,
                     deal_rows: dict[Any, dict[str, float]]) -> None:
    """义务接待 (rules page, 轮岗): a subscription approved the same Beijing day as the
    stand-in's reception of the owner's customer is credited `stand_in_share` percent
    (50 by default) to the stand-in and the rest to the owner — the deal's consultant —
    in counts and amounts (the stand-in's part in whole fen, rounded down); otherwise the
    owner keeps it all. Only the consultant dimension (and a consultant's own figures)
    sees a difference: both parts have the deal's other keys."""
    own = w.scope.own_user_id
    for fact in session.execute(facts.stand_in_subscriptions(w.scope, w.date_from, w.date_to)):
        if shanghai_date(as_utc(fact.approved_at)) != fact.visit_date:
            continue
        share = (DEFAULT_RULES.stand_in_share_percent if fact.stand_in_share is None
                 else fact.stand_in_share)
        part, amount = share / 100, int(fact.price_fen) * share // 100
        key = getattr(fact, w.group_by) if w.group_by else "all"
        stand_in_key = fact.stand_in if w.group_by == "consultant" else key
        if own is None or fact.consultant == own:
            _credit(deal_rows, key, -part, -amount)
        if own is None or fact.stand_in == own:
            _credit(deal_rows, stand_in_key, part, amount)


def _credit(rows: dict[Any, dict[str, float]], key: Any, part: float, amount: int) -> None:
    row = rows.setdefault(key, {})
    row["subscriptions"] = round(row.get("subscriptions", 0) + part, 4)
    row["subscription_amount_fen"] = row.get("subscription_amount_fen", 0) + amount


def _keys(*tables: dict[Any, Any]) -> list[Any]:
    found: set[Any] = set()
    for table in tables:
        found |= set(table)
    return sorted(found, key=lambda k: (k is None, str(k)))


def _figure_row(key: Any, *tables: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key}
    for table in tables:
        row.update(table.get(key, {}))
    return _figure_ratios(row)


_FIGURE_COUNTS = ("visits", "first_visits", "call_visits", "pledges", "subscriptions",
                  "subscription_amount_fen", "contracts", "contract_amount_fen", "returns",
                  "returned_amount_fen", "swaps")


def _figure_ratios(row: dict[str, Any]) -> dict[str, Any]:
    for name in _FIGURE_COUNTS:
        row.setdefault(name, 0)
    row["return_visits"] = row["visits"] - row["first_visits"]
    row["subscriptions"] = round(row["subscriptions"], 4)
    # 来电转来访 = visits ÷ calls, as the rules page defines it: a period ratio of the
    # same window, not a follow-through of the callers (ADR 0056). `calls` is None where
    # the dimension has no key for a call (product, channel).
    row.setdefault("calls", 0)
    row["call_to_visit"] = None if row["calls"] is None else _ratio(row["visits"], row["calls"])
    row["visit_to_deal"] = _ratio(row["subscriptions"], row["visits"])
    # 净签约 = 签约 − 退房 + 换房: a 换房 here moves the contract without closing it, so it
    # is neither in 签约 nor in 退房 and its + and − cancel (docs/sales-analysis.md).
    row["net_contracts"] = row["contracts"] - row["returns"]
    row["net_contract_amount_fen"] = row["contract_amount_fen"] - row["returned_amount_fen"]
    return row


def _summed(rows: list[dict[str, Any]], names: Iterable[str]) -> dict[str, Any]:
    return {"key": None, **{n: sum(r[n] for r in rows) for n in names}}


def _figure_total(rows: list[dict[str, Any]], calls: int) -> dict[str, Any]:
    return _figure_ratios({**_summed(rows, _FIGURE_COUNTS), "calls": calls})


def funnel(session: Session, w: Window) -> dict[str, Any]:
    """储客 → 跟客 → 成交 of the customers first received in the window."""
    grouped = _grouped(session, facts.stored_customers(w.scope, w.date_from, w.date_to),
                       w.group_by, {
                           "stored": _count(),
                           "followed": lambda s: _sum_if(s.c.followed.is_(True)),
                           "bought": lambda s: _sum_if(s.c.bought.is_(True)),
                       })
    rows = [_funnel_ratios({"key": k, **grouped[k]}) for k in _keys(grouped)]
    return _labelled(session, w.group_by, rows,
                     lambda rs: _funnel_ratios(_summed(rs, ("stored", "followed", "bought"))))


def _funnel_ratios(row: dict[str, Any]) -> dict[str, Any]:
    row["follow_rate"] = _ratio(row["followed"], row["stored"])
    row["deal_rate"] = _ratio(row["bought"], row["stored"])
    return row


def sell_through(session: Session, scope: Scope, group_by: str) -> dict[str, Any]:
    """去化率 now: units sold ÷ units released, per batch (or layout, or team)."""
    grouped = _grouped(session, facts.released_units(scope), group_by, {
        "released": _count(),
        "sold": lambda s: _sum_if(s.c.sold.is_(True)),
        "sold_area_centi": lambda s: _sum_if(s.c.sold.is_(True), s.c.area_centi),
    })

    def ratios(row: dict[str, Any]) -> dict[str, Any]:
        row["sell_through"] = _ratio(row["sold"], row["released"])
        return row

    rows = [ratios({"key": k, **grouped[k]}) for k in _keys(grouped)]
    return _labelled(session, group_by, rows,
                     lambda rs: ratios(_summed(rs, ("released", "sold", "sold_area_centi"))))


def _band(low: Any, high: Any, bands: tuple[int, ...]) -> Any:
    value = func.coalesce(low, high)
    whens: list[tuple[Any, Any]] = [(value.is_(None), literal(None))]
    whens += [(value < edge, literal(f"<{edge}")) for edge in bands]
    return case(*whens, else_=literal(f">={bands[-1]}"))


def _intention_value(sub: Any, field: str) -> Any:
    if field == "area":
        return _band(sub.c.area_min, sub.c.area_max, AREA_BANDS)
    if field == "budget":
        return _band(sub.c.budget_min, sub.c.budget_max, BUDGET_BANDS)
    return sub.c[{"layout": "product", "region": "phone_region", "source": "channel"}
                 .get(field, field)]


def intentions(session: Session, w: Window, field: str) -> dict[str, Any]:
    """The window's visits counted by one intention field (its values) within each group:
    one visit, one answer (a visitor's later visits answer again)."""
    sub = facts.visits(w.scope, w.date_from, w.date_to).subquery("fact")
    key = _key(sub, w.group_by).label("key")
    value = _intention_value(sub, field).label("value")
    stmt = (select(key, value, func.count(sub.c.id).label("visits"))
            .group_by(*((key,) if w.group_by else ()), value))
    found = [(r.key, r.value, int(r.visits)) for r in session.execute(stmt)]
    name = labels.namer(session, w.group_by, {k for k, _, _ in found})
    items = [{"key": k, "label": name(k), "value": v,
              "value_label": labels.intention(field, v), "visits": n}
             for k, v, n in sorted(found, key=lambda c: (c[0] is None, str(c[0]),
                                                         c[1] is None, str(c[1])))]
    return {"group_by": w.group_by, "field": field, "items": items}


def _labelled(session: Session, group_by: str | None, rows: list[dict[str, Any]],
              total: Any) -> dict[str, Any]:
    name = labels.namer(session, group_by, {r["key"] for r in rows})
    for row in rows:
        row["label"] = name(row["key"])
    summary = total(rows)
    summary["label"] = "合计"
    return {"group_by": group_by, "items": rows, "total": summary}
