"""A project's channel configuration as each referral needs it — its rule versions and
its risk policy — kept per process and checked against the database on every use.

Each is cached under a stamp that changes with every committed change to its rows: the
risk policy's row version (PostgreSQL's `xmin`, the id of the transaction that wrote the
row), and for the rule versions each version's number with its row version, in order.
A referral reads both stamps in the statement that reads its broker
(cloud.channel.referral_context), so a cache hit costs no statement and stays exact in
every process at once: a publication in another process changes the stamp the next
referral reads, and the old entry is not served again. Transaction ids are not reused
(short of a wraparound, billions of transactions later), so a stamp does not come back
after a rollback, a truncation or a deletion. An entry is stored under the stamp of the
rows it was built from, read in the same statement as them. SQLite (the demo) has no
row versions: there every use reads the rows.
"""

from __future__ import annotations

import threading
from typing import TypeVar

from sqlalchemy import Text, cast, literal_column
from sqlmodel import Session, col, select

from cloud.channel import risk_policy, rules
from cloud.channel.models import RuleVersion
from cloud.channel.risk_models import RiskPolicy
from shared.attribution import RulesHistory

# The stamps of a project's rows as SQL (PostgreSQL), `{p}` the project id's parameter.
RULES_STAMP = ("coalesce((SELECT string_agg(version || '@' || xmin::text, ',' "
               "ORDER BY version) FROM channel_rule_version WHERE project_id = {p}), '')")
POLICY_STAMP = ("coalesce((SELECT xmin::text FROM channel_risk_policy "
                "WHERE project_id = {p}), '-')")
# Projects are few, but a process must not grow without a bound.
MAX_ENTRIES = 10_000

_Value = TypeVar("_Value")
_Key = tuple[str, int]
_lock = threading.Lock()
_rules: dict[_Key, tuple[str, RulesHistory]] = {}
_policies: dict[_Key, tuple[str, risk_policy.Policy]] = {}


def _key(session: Session, project_id: int) -> _Key:
    # Per database server and database: transaction ids are one server's sequence.
    return (session.get_bind().engine.url.render_as_string(hide_password=True), project_id)


def _cached(cache: dict[_Key, tuple[str, _Value]], key: _Key, stamp: str) -> _Value | None:
    hit = cache.get(key)
    return hit[1] if hit is not None and hit[0] == stamp else None


def _store(cache: dict[_Key, tuple[str, _Value]], key: _Key, stamp: str,
           value: _Value) -> _Value:
    with _lock:
        if len(cache) >= MAX_ENTRIES and key not in cache:
            del cache[next(iter(cache))]
        cache[key] = (stamp, value)
    return value


def rules_history(session: Session, project_id: int, stamp: str | None) -> RulesHistory:
    """The project's rule history; from the cache while `stamp` is still the rows'.
    `stamp` None (SQLite): read every time."""
    if stamp is None:
        return rules.history(session, project_id)
    key = _key(session, project_id)
    hit = _cached(_rules, key, stamp)
    if hit is not None:
        return hit
    xmin = cast(literal_column("channel_rule_version.xmin"), Text)
    rows = session.exec(select(RuleVersion, xmin).where(RuleVersion.project_id == project_id)
                        .order_by(col(RuleVersion.version))).all()
    history = RulesHistory(versions=tuple(rules.of_rows(project_id, [r for r, _ in rows])))
    return _store(_rules, key, ",".join(f"{r.version}@{x}" for r, x in rows), history)


def policy(session: Session, project_id: int, stamp: str | None) -> risk_policy.Policy:
    """The project's risk policy; from the cache while `stamp` is still the row's.
    `stamp` None (SQLite): read every time."""
    if stamp is None:
        return risk_policy.policy(session, project_id)
    key = _key(session, project_id)
    hit = _cached(_policies, key, stamp)
    if hit is not None:
        return hit
    xmin = cast(literal_column("channel_risk_policy.xmin"), Text)
    found = session.exec(select(RiskPolicy, xmin).where(
        RiskPolicy.project_id == project_id)).first()
    row, version = found if found is not None else (None, "-")
    return _store(_policies, key, version, risk_policy.build(project_id, row))
