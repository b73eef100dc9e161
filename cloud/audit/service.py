"""Appending to the audit log (the chains themselves: cloud/audit/chain.py; reading it:
cloud/audit/queries.py; audits of reads: cloud/audit/reads.py).

Rows are appended in the caller's transaction: the audit row commits or rolls back with
the change it records. They join a chain as the transaction commits (under that chain's
lock, held only from there to the end of the commit): a lock taken at `record()` would be
held through the rest of the request — its response, the hop to the commit — and every
audited write of the cloud would queue behind it (issue #21's referral benchmark).

The log is several chains, its shards (ADR 0059): one lock would still let only one
audited transaction of the whole cloud commit at a time, each hold including a commit's
WAL flush. A transaction chains all its rows into one shard, the first whose lock is free.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import TextClause, bindparam, event, func, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, select

from cloud.audit.chain import HASHED, canonical_fields, chain_hash, genesis_hash, link_hash
from cloud.audit.models import AuditLog
from cloud.db import is_postgres
from cloud.settings import CloudSettings
from shared.dbtypes import table_of
from shared.phone import mask_numbers_in
from shared.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from cloud.identity.principal import Principal

# "denied": a signed-in user refused a sensitive route (cloud/audit/denials.py).
RESULTS = frozenset({"success", "failure", "denied"})

# One advisory-lock key per shard serialises that shard's appenders on PostgreSQL, so two
# transactions never read the same last hash and fork it: shard k's key is this + k.
# ASCII "anchaudt", fits a signed bigint with room for every shard.
CHAIN_LOCK_KEY = 0x616E_6368_6175_6474

@dataclass(slots=True)
class AuditEntry:
    """A row on its way into the log: the columns of AuditLog, in a plain object (a table
    model costs about as much to build as the rest of the append)."""

    at: datetime
    actor_id: int | None
    actor: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    result: str
    detail: dict[str, Any]
    shard: int = 0
    prev_hash: str = ""
    hash: str = ""
    id: int | None = None


@dataclass
class _Shards:
    """How this process spreads its transactions over the shards: `count` from the
    setting; each transaction starts trying at the next of a rotation, which begins at
    the process id so that processes do not start in step."""

    count: int = CloudSettings.model_fields["audit_chain_shards"].default
    rotation: Iterator[int] = field(default_factory=lambda: itertools.count(os.getpid()))


_SHARDS = _Shards()


def configure(*, shards: int) -> None:
    """AUDIT_CHAIN_SHARDS, set as a process starts (API, worker, sync consumer). Any count
    gives valid chains, and it may change between runs: it only spreads the writers."""
    _SHARDS.count = shards


def record(
    session: Session,
    *,
    action: str,
    result: str = "success",
    principal: Principal | None = None,
    actor: str | None = None,
    ip: str | None = None,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    actor_id: int | None = None,
    immediate: bool = False,
    shard: int | None = None,
) -> AuditEntry:
    """Append one row inside the caller's transaction; it is chained and inserted as the
    transaction commits. `immediate` chains it now, holding its shard's lock to the end
    of the transaction; so does a savepoint, which may roll back on its own. `shard`
    chains it now into that shard (a checkpoint or an archive row must follow the row it
    names there): the daily jobs, which take shards' locks in ascending order only.

    `actor`, `ip` and `actor_id` default to the principal's. `actor_id` exists for events
    that precede a principal (a login). Phone numbers in any text are masked.
    """
    entry = new_entry(action=action, result=result, principal=principal, actor=actor, ip=ip,
                      object_type=object_type, object_id=object_id, detail=detail,
                      actor_id=actor_id)
    if shard is not None:
        lock_chain(session, shard)
        _append(session, [entry], shard)
    elif immediate or session.in_nested_transaction():
        append_now(session, [entry])
    else:
        session.connection()  # begins the transaction the entry belongs to
        session.info.setdefault(_PENDING, []).append(entry)
    return entry


def new_entry(
    *, action: str, result: str = "success", principal: Principal | None = None,
    actor: str | None = None, ip: str | None = None, object_type: str = "",
    object_id: str = "", detail: dict[str, Any] | None = None, actor_id: int | None = None,
) -> AuditEntry:
    """A row as record() takes it, checked and cleaned, not yet part of any transaction."""
    if result not in RESULTS:
        raise ValueError(f"audit result must be one of {sorted(RESULTS)}, not {result!r}")
    if not action:
        raise ValueError("audit action is required")
    if principal is not None:
        actor = principal.username if actor is None else actor
        ip = principal.ip if ip is None else ip
        actor_id = principal.user_id if actor_id is None else actor_id
    return AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor=_clean(actor or "", 64),
        ip=_clean(ip, 45) if ip else None,
        action=_clean(action, 64),
        object_type=_clean(object_type, 32),
        object_id=_clean(object_id, 64),
        result=result,
        detail=_normalise(detail or {}),
    )


def append_now(session: Session, entries: list[AuditEntry]) -> None:
    """Chain and insert `entries` at once in the session's transaction (a shard's lock
    held from here to its end)."""
    _append(session, entries, _claim_shard(session))


_PENDING = "audit_pending"
_SHARD = "audit_shard"  # the shard the session's transaction chains into


def lock_chain(session: Session, shard: int) -> None:
    """Hold a shard's lock until the transaction ends (PostgreSQL: an advisory lock;
    SQLite: its one write lock): no row joins that shard meanwhile."""
    if is_postgres(session):
        session.connection().execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY + shard}
        )
    else:
        # pysqlite begins a transaction only at the first write, so the read below could
        # see a parent that another connection is extending at this moment. A write that
        # changes nothing takes SQLite's one write lock now and holds it to commit.
        session.connection().execute(text("UPDATE audit_log SET id = id WHERE 0"))


def _claim_shard(session: Session) -> int:
    """The shard this transaction chains into, its lock held: the one it already has;
    else, from the next of this process's rotation on, the first whose lock is free (one
    statement of try-locks); else, all being busy, the rotation's, waited for. SQLite
    has one write lock for everything: its rows stay in shard 0."""
    shard: int | None = session.info.get(_SHARD)
    if shard is not None:
        lock_chain(session, shard)  # held already, unless a savepoint rolled back since
        return shard
    if not is_postgres(session):
        shard = 0
        lock_chain(session, shard)
    else:
        count = _SHARDS.count
        start = next(_SHARDS.rotation)
        order = [(start + i) % count for i in range(count)]
        keys = {f"k{i}": CHAIN_LOCK_KEY + s for i, s in enumerate(order)}
        taken = session.connection().execute(_try_locks(count), keys).scalar_one()
        shard = order[taken] if taken >= 0 else order[0]
        if taken < 0:
            lock_chain(session, shard)
    session.info[_SHARD] = shard
    return shard


_TRY_LOCKS: dict[int, TextClause] = {}


def _try_locks(count: int) -> TextClause:
    """Try the keys :k0, :k1, … in turn, stopping at the first lock taken (PostgreSQL
    evaluates a CASE's conditions in order, and a volatile function is never evaluated
    ahead); its position, or -1 if every lock is held by others."""
    if count not in _TRY_LOCKS:
        tries = " ".join(f"WHEN pg_try_advisory_xact_lock(:k{i}) THEN {i}"
                         for i in range(count))
        _TRY_LOCKS[count] = text(f"SELECT CASE {tries} ELSE -1 END")
    return _TRY_LOCKS[count]


_TABLE = table_of(AuditLog)
_PARENT = (select(_TABLE.c.hash).where(_TABLE.c.shard == bindparam("shard"))
           .order_by(_TABLE.c.id.desc()).limit(1))
# Core, not the unit of work: building and flushing this one row as a table model was
# a fifth of a referral's Python (ADR 0054).
_INSERT = _TABLE.insert().returning(_TABLE.c.id, sort_by_parameter_order=True)
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")


# One row chained by PostgreSQL in its own insert: the parent read (after the lock, as a
# subquery of the statement that follows the lock's) and the hash, sha256 of the parent's
# hash and the row's canonical text, which Python makes. One round trip instead of two
# for the common append of one row (every audited request).
_PARENT_OR_GENESIS = func.coalesce(
    select(_TABLE.c.hash).where(_TABLE.c.shard == bindparam("parent_shard"))
    .order_by(_TABLE.c.id.desc()).limit(1).scalar_subquery(),
    bindparam("genesis"))
_INSERT_CHAINED = _TABLE.insert().values(
    prev_hash=_PARENT_OR_GENESIS,
    hash=func.encode(func.sha256(func.convert_to(
        _PARENT_OR_GENESIS.concat(bindparam("canonical")), "UTF8")), "hex"),
).returning(_TABLE.c.id, _TABLE.c.prev_hash, _TABLE.c.hash)
_FIELDS = tuple(name for name in _COLUMNS if name not in ("prev_hash", "hash"))

# Many rows chained by PostgreSQL in one insert (a group of read audits, ADR 0064): the
# parent read in the statement after the lock's, each row's hash from the one before by a
# recursive walk over the canonical texts Python made, the rows passed as arrays. Two
# round trips fewer than reading the parent and inserting through insertmanyvalues.
_ROW_FIELDS = ("actor_id", "actor", "ip", "action", "object_type", "object_id", "result")
_INSERT_ROWS = text("""
WITH RECURSIVE texts AS (
    SELECT canonical, n FROM unnest(CAST(:canonical AS text[])) WITH ORDINALITY AS t(canonical, n)
), chain (n, prev_hash, hash) AS (
    SELECT CAST(0 AS bigint), CAST(NULL AS text), coalesce(
        (SELECT hash FROM audit_log WHERE shard = :shard ORDER BY id DESC LIMIT 1), :genesis)
    UNION ALL
    SELECT t.n, c.hash, encode(sha256(convert_to(c.hash || t.canonical, 'UTF8')), 'hex')
    FROM chain c JOIN texts t ON t.n = c.n + 1
)
INSERT INTO audit_log (at, actor_id, actor, ip, action, object_type, object_id, result,
                       detail, shard, prev_hash, hash)
SELECT :at, r.actor_id, r.actor, r.ip, r.action, r.object_type, r.object_id, r.result,
       CAST(r.detail AS json), :shard, c.prev_hash, c.hash
FROM unnest(CAST(:actor_id AS integer[]), CAST(:actor AS text[]), CAST(:ip AS text[]),
            CAST(:action AS text[]), CAST(:object_type AS text[]),
            CAST(:object_id AS text[]), CAST(:result AS text[]), CAST(:detail AS text[]))
     WITH ORDINALITY AS r(actor_id, actor, ip, action, object_type, object_id, result,
                          detail, n)
JOIN chain c ON c.n = r.n
ORDER BY r.n
RETURNING id, prev_hash, hash
""")


def _append(session: Session, entries: list[AuditEntry], shard: int) -> None:
    """Chain `entries` after the shard's last row and insert them; the caller holds the
    shard's lock. The entries stay outside the session (the log is append-only: nothing
    of theirs is ever updated); their ids are set from the insert."""
    connection = session.connection()
    now = utcnow()
    for entry in entries:
        # Stamped under the lock, so times never run backwards along a shard.
        entry.at = now
        entry.shard = shard
    if is_postgres(session):
        canonicals = [canonical_fields(_fields_of(e)) for e in entries]
        if len(entries) == 1:
            [entry] = entries
            rows = [connection.execute(_INSERT_CHAINED, {
                **{name: getattr(entry, name) for name in _FIELDS}, "parent_shard": shard,
                "genesis": genesis_hash(shard), "canonical": canonicals[0],
            }).one()]
        else:
            rows = sorted(connection.execute(_INSERT_ROWS, {
                **{name: [getattr(e, name) for e in entries] for name in _ROW_FIELDS},
                "detail": [json.dumps(e.detail) for e in entries], "at": now,
                "shard": shard, "genesis": genesis_hash(shard), "canonical": canonicals,
            }).all())
        for entry, canonical, (new_id, entry.prev_hash, entry.hash) in zip(
                entries, canonicals, rows, strict=True):
            entry.id = new_id
            # The same sum in Python: a difference in how either side encodes the text
            # (or orders the rows) would otherwise show only when the chain is verified.
            if entry.hash != link_hash(entry.prev_hash, canonical):
                raise RuntimeError(f"audit row {new_id}: PostgreSQL's hash differs from ours")
        return
    # Read after taking the lock: the last committed (or own inserted) row is the parent.
    prev_hash = connection.execute(_PARENT, {"shard": shard}).scalar() or genesis_hash(shard)
    for entry in entries:
        entry.prev_hash = prev_hash
        entry.hash = prev_hash = chain_hash(prev_hash, _fields_of(entry))
    # One statement for many rows (insertmanyvalues), ids in the entries' order.
    ids = connection.execute(
        _INSERT, [{name: getattr(e, name) for name in _COLUMNS} for e in entries]).scalars()
    for entry, new_id in zip(entries, ids, strict=True):
        entry.id = new_id


@event.listens_for(OrmSession, "before_commit")
def _chain_pending(session: OrmSession) -> None:
    entries = session.info.pop(_PENDING, None)
    if entries and isinstance(session, Session):
        # The unit of work's own failures surface before a shard's lock is taken.
        session.flush()
        append_now(session, entries)


@event.listens_for(OrmSession, "after_transaction_end")
def _drop_pending(session: OrmSession, transaction: SessionTransaction) -> None:
    """Rolled back (or never committed): its entries go with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_SHARD, None)


def _fields_of(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED}


def _clean(value: str, limit: int) -> str:
    # PostgreSQL refuses NUL in text; a hostile login name must not turn an audit into a 500.
    return mask_numbers_in(value.replace("\x00", ""))[:limit]


def _normalise(value: Any) -> Any:
    """Make detail JSON-native (so the stored text hashes the same when read back) and
    mask phone numbers in it."""
    if isinstance(value, Mapping):
        return {_clean(str(k), 100): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_normalise(v) for v in items]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return _normalise(value.value)
    if isinstance(value, str):
        return mask_numbers_in(str.__str__(value).replace("\x00", ""))
    if isinstance(value, int):
        masked = mask_numbers_in(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return mask_numbers_in(str(value))
