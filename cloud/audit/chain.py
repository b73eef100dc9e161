"""The audit log's hash chains: each row's hash, signed checkpoints and the verifier.

The log is N independent chains, its shards (ADR 0059): each row names the shard it
belongs to and chains to the one before it in that shard. Each row's hash is
sha256(prev_hash + canonical JSON of its fields, its shard among them), so editing,
deleting, re-ordering or moving a row to another shard breaks its shard's chain at that
row or the next one. Someone who can write the whole table could still recompute every
hash; a checkpoint row (written into every shard by the daily job) carries an HMAC, under
a key kept outside the database, of the row before it, so such a rewrite breaks every
checkpoint it passes (docs/decisions/0021-…). Rows older than CHECKPOINT_GRACE must lie
behind a valid checkpoint of their shard, or a rewrite could simply drop them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from cloud.audit.models import GENESIS_HASH, AuditLog
from shared.timeutil import as_utc, utcnow

CHECKPOINT_ACTION = "audit.checkpoint"
ARCHIVE_ACTION = "audit.archive"
# The checkpoint job runs daily; a day more leaves room for a late or failed run.
CHECKPOINT_GRACE = timedelta(days=2)

HASHED: Sequence[str] = (
    "at", "actor_id", "actor", "ip", "action", "object_type", "object_id", "result", "detail",
    "shard",
)
_VERIFY_BATCH = 1000


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None
    shard: int | None = None  # of the first bad row


@dataclass(frozen=True)
class HeadsReport:
    ok: bool
    checked: int  # head files read
    bad_file: str | None = None
    reason: str | None = None


def genesis_hash(shard: int) -> str:
    """The parent of a shard's first row. Shard 0 keeps the single chain's 64 zeros, so
    the rows written before shards existed still verify; every other shard has its own,
    so no stretch of one shard can pass for the start of another."""
    if shard == 0:
        return GENESIS_HASH
    return hashlib.sha256(f"anchang-audit-shard:{shard}".encode()).hexdigest()


def canonical_fields(fields: Mapping[str, Any]) -> str:
    """The text a row's hash covers after its parent's hash: canonical JSON of its fields."""
    content = {
        "at": as_utc(fields["at"]).isoformat(timespec="microseconds"),
        "actor_id": fields["actor_id"],
        "actor": fields["actor"],
        "ip": fields["ip"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "result": fields["result"],
        "detail": fields["detail"],
    }
    # Shard 0's rows hash as the single chain's did (rows and archive files from before
    # migration 0047 have no shard); any other shard is part of what its rows hash.
    if shard := fields.get("shard", 0):
        content["shard"] = shard
    return json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def link_hash(prev_hash: str, canonical: str) -> str:
    """A row's hash from its parent's and its canonical text (canonical_fields)."""
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return link_hash(prev_hash, canonical_fields(fields))


def link_mac(key: bytes, row_id: int, row_hash: str) -> str:
    """The HMAC that a checkpoint (and a head file of before ADR 0059) puts on one row."""
    return hmac.new(key, f"{row_id}:{row_hash}".encode(), hashlib.sha256).hexdigest()


def checkpoint_detail(keys: Mapping[str, bytes], row_id: int, row_hash: str) -> dict[str, Any]:
    key_id, key = next(iter(keys.items()))  # the ring's first key is the active one
    return {"through_id": row_id, "through_hash": row_hash, "key_id": key_id,
            "mac": link_mac(key, row_id, row_hash)}


def mac_ok(keys: Mapping[str, bytes], detail: Mapping[str, Any]) -> bool:
    key = keys.get(str(detail.get("key_id")))
    if key is None or not isinstance(detail.get("through_id"), int):
        return False
    expected = link_mac(key, detail["through_id"], str(detail.get("through_hash")))
    return hmac.compare_digest(expected, str(detail.get("mac")))


def heads_mac(key: bytes, heads: Sequence[Mapping[str, Any]]) -> str:
    """One HMAC over a head file's list of shard heads, shard numbers included: a head
    cannot be moved to a shard whose archive would excuse its absence."""
    canonical = json.dumps(list(heads), sort_keys=True, separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def chain_shards(session: Session) -> list[int]:
    """The shards holding rows, ascending: one index probe per shard, not a scan."""
    shards: list[int] = []
    while True:
        query = sa_select(func.min(col(AuditLog.shard)))
        if shards:
            query = query.where(col(AuditLog.shard) > shards[-1])
        shard = session.connection().execute(query).scalar()
        if shard is None:
            return shards
        shards.append(shard)


def archive_anchor(session: Session, shard: int) -> dict[str, Any] | None:
    """The shard's newest archive row's detail: where its remaining chain must start."""
    detail = session.exec(
        select(AuditLog.detail).where(AuditLog.action == ARCHIVE_ACTION,
                                      AuditLog.shard == shard)
        .order_by(col(AuditLog.id).desc()).limit(1)
    ).first()
    return dict(detail) if detail is not None else None


def verify_chain(
    session: Session, *, keys: Mapping[str, bytes], from_id: int | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Walk every shard in id order, recompute every link and check every checkpoint.

    A shard's walk starts at its genesis, or after the rows its newest archive row says
    were archived (retention), or at its first row from `from_id` on, whose prev_hash is
    then trusted. `checked` counts the rows of every shard walked.
    """
    stale_before = (now or utcnow()) - CHECKPOINT_GRACE
    checked = 0
    for shard in chain_shards(session):
        report = _verify_shard(session, shard, keys, from_id, stale_before)
        checked += report.checked
        if not report.ok:
            return replace(report, checked=checked)
    return VerifyReport(ok=True, checked=checked)


def _verify_shard(session: Session, shard: int, keys: Mapping[str, bytes],
                  from_id: int | None, stale_before: datetime) -> VerifyReport:
    columns = [col(AuditLog.id), col(AuditLog.prev_hash), col(AuditLog.hash),
               *(col(getattr(AuditLog, name)) for name in HASHED)]
    expected: str | None = genesis_hash(shard)
    last_id: int | None = None  # where the next batch starts
    prev_id: int | None = None  # the row before, when known
    if from_id is not None:
        expected, last_id = None, from_id - 1
    elif (anchor := archive_anchor(session, shard)) is not None:
        expected, last_id = str(anchor["through_hash"]), int(anchor["through_id"])
        prev_id = last_id
    uncovered: int | None = None  # the first old row after the last valid checkpoint
    checked = 0
    while True:
        # Plain rows, not ORM objects: a long log must not fill the session's identity map.
        query = (sa_select(*columns).where(col(AuditLog.shard) == shard)
                 .order_by(col(AuditLog.id)).limit(_VERIFY_BATCH))
        if last_id is not None:
            query = query.where(col(AuditLog.id) > last_id)
        rows = session.connection().execute(query).mappings().all()
        if not rows:
            break
        for row in rows:
            bad = _bad_link(dict(row), expected, prev_id, keys)
            if bad is not None:
                return VerifyReport(ok=False, checked=checked, first_bad_id=row["id"],
                                    reason=bad, shard=shard)
            if row["action"] == CHECKPOINT_ACTION:
                uncovered = None
            elif uncovered is None and as_utc(row["at"]) < stale_before:
                uncovered = row["id"]
            expected = row["hash"]
            last_id = prev_id = row["id"]
            checked += 1
    if uncovered is not None:
        return VerifyReport(
            ok=False, checked=checked, first_bad_id=uncovered, shard=shard,
            reason=f"超过 {CHECKPOINT_GRACE.days} 天的记录没有被签名检查点覆盖"
                   "（整条链可能被重写，或每日任务未运行）",
        )
    return VerifyReport(ok=True, checked=checked)


def _bad_link(row: Mapping[str, Any], expected: str | None, prev_id: int | None,
              keys: Mapping[str, bytes]) -> str | None:
    if expected is not None and row["prev_hash"] != expected:
        return "与上一条记录的哈希不衔接（有记录被删除、插入或移到了另一条链）"
    if chain_hash(row["prev_hash"], row) != row["hash"]:
        return "记录内容与其哈希不符（记录被修改）"
    if row["action"] == CHECKPOINT_ACTION:
        detail = row["detail"]
        links = (detail.get("through_hash") == row["prev_hash"]
                 and (prev_id is None or detail.get("through_id") == prev_id))
        if not (links and mac_ok(keys, detail)):
            return "签名检查点无效（链被整体重写，或审计密钥不符）"
    return None


def check_heads(session: Session, folder: Path, keys: Mapping[str, bytes]) -> HeadsReport:
    """Every exported head of every shard must still be in the log with the same hash.

    A head that is gone while newer than its shard's archived stretch means that shard's
    newest rows were cut off; a different hash means the shard was rewritten since that
    day. A head file whose signature fails was not written by the job (or under another
    key).
    """
    archived: dict[int, int] = {}
    files = sorted(folder.glob("audit-head-*.json")) if folder.is_dir() else []
    for path in files:
        try:
            heads = _heads_in(json.loads(path.read_text(encoding="utf-8")), keys)
        except (ValueError, AttributeError, TypeError, KeyError):
            return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                               reason="链头文件无法读取（不是本系统导出的格式）")
        if heads is None:
            return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                               reason="链头文件的签名无效（文件被伪造或审计密钥不符）")
        for shard, head_id, head_hash in heads:
            if shard not in archived:
                anchor = archive_anchor(session, shard)
                archived[shard] = int(anchor["through_id"]) if anchor else 0
            if head_id == 0 or head_id <= archived[shard]:
                continue  # exported from an empty log, or archived since
            stored = session.connection().execute(
                sa_select(col(AuditLog.hash), col(AuditLog.shard))
                .where(col(AuditLog.id) == head_id)
            ).first()
            if stored is None:
                return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                                   reason=f"链头记录 {head_id} 已不在审计日志中"
                                          f"（第 {shard} 条链最新的记录被截断）")
            if tuple(stored) != (head_hash, shard):
                return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                                   reason=f"记录 {head_id} 的哈希与导出的链头不符（链被改写）")
    return HeadsReport(ok=True, checked=len(files))


def _heads_in(head: Mapping[str, Any],
              keys: Mapping[str, bytes]) -> list[tuple[int, int, str]] | None:
    """A head file's (shard, id, hash) triples; None if its signature fails. A file of
    before ADR 0059 names one row of the single chain, now shard 0."""
    if "heads" not in head:
        head_id, head_hash = int(head.get("id") or 0), head.get("hash")
        if head_id and "mac" in head and not mac_ok(
            keys, {"through_id": head_id, "through_hash": head_hash,
                   "key_id": head.get("key_id"), "mac": head["mac"]}
        ):
            return None
        return [(0, head_id, str(head_hash))]
    entries = list(head["heads"])
    if entries:
        key = keys.get(str(head.get("key_id")))
        if key is None or not hmac.compare_digest(heads_mac(key, entries),
                                                  str(head.get("mac"))):
            return None
    return [(int(e["shard"]), int(e["id"]), str(e["hash"])) for e in entries]
