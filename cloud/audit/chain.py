"""The audit log's hash chain: each row's hash, signed checkpoints and the verifier.

Each row's hash is sha256(prev_hash + canonical JSON of its fields), so editing, deleting
or re-ordering a row breaks the chain at that row or the next one. Someone who can write
the whole table could still recompute every hash; a checkpoint row (written by the daily
job) carries an HMAC, under a key kept outside the database, of the row before it, so such
a rewrite breaks every checkpoint it passes (docs/decisions/0021-…). Rows older than
CHECKPOINT_GRACE must lie behind a valid checkpoint, or a rewrite could simply drop them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

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
)
_VERIFY_BATCH = 1000


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class HeadsReport:
    ok: bool
    checked: int  # head files read
    bad_file: str | None = None
    reason: str | None = None


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {
            "at": as_utc(fields["at"]).isoformat(timespec="microseconds"),
            "actor_id": fields["actor_id"],
            "actor": fields["actor"],
            "ip": fields["ip"],
            "action": fields["action"],
            "object_type": fields["object_type"],
            "object_id": fields["object_id"],
            "result": fields["result"],
            "detail": fields["detail"],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def link_mac(key: bytes, row_id: int, row_hash: str) -> str:
    """The HMAC that a checkpoint (and a head file) puts on one row of the chain."""
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


def archive_anchor(session: Session) -> dict[str, Any] | None:
    """The newest archive row's detail: where the remaining chain must start."""
    detail = session.exec(
        select(AuditLog.detail).where(AuditLog.action == ARCHIVE_ACTION)
        .order_by(col(AuditLog.id).desc()).limit(1)
    ).first()
    return dict(detail) if detail is not None else None


def verify_chain(
    session: Session, *, keys: Mapping[str, bytes], from_id: int | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Walk the log in id order, recompute every link and check every checkpoint.

    The walk starts at the genesis, or after the rows the newest archive row says were
    archived (retention), or at `from_id` whose prev_hash is then trusted.
    """
    columns = [col(AuditLog.id), col(AuditLog.prev_hash), col(AuditLog.hash),
               *(col(getattr(AuditLog, name)) for name in HASHED)]
    expected: str | None = GENESIS_HASH
    last_id: int | None = None  # where the next batch starts
    prev_id: int | None = None  # the row before, when known
    if from_id is not None:
        expected, last_id = None, from_id - 1
    elif (anchor := archive_anchor(session)) is not None:
        expected, last_id = str(anchor["through_hash"]), int(anchor["through_id"])
        prev_id = last_id
    stale_before = (now or utcnow()) - CHECKPOINT_GRACE
    uncovered: int | None = None  # the first old row after the last valid checkpoint
    checked = 0
    while True:
        # Plain rows, not ORM objects: a long log must not fill the session's identity map.
        query = sa_select(*columns).order_by(col(AuditLog.id)).limit(_VERIFY_BATCH)
        if last_id is not None:
            query = query.where(col(AuditLog.id) > last_id)
        rows = session.connection().execute(query).mappings().all()
        if not rows:
            break
        for row in rows:
            bad = _bad_link(dict(row), expected, prev_id, keys)
            if bad is not None:
                return VerifyReport(ok=False, checked=checked, first_bad_id=row["id"],
                                    reason=bad)
            if row["action"] == CHECKPOINT_ACTION:
                uncovered = None
            elif uncovered is None and as_utc(row["at"]) < stale_before:
                uncovered = row["id"]
            expected = row["hash"]
            last_id = prev_id = row["id"]
            checked += 1
    if uncovered is not None:
        return VerifyReport(
            ok=False, checked=checked, first_bad_id=uncovered,
            reason=f"超过 {CHECKPOINT_GRACE.days} 天的记录没有被签名检查点覆盖"
                   "（整条链可能被重写，或每日任务未运行）",
        )
    return VerifyReport(ok=True, checked=checked)


def _bad_link(row: Mapping[str, Any], expected: str | None, prev_id: int | None,
              keys: Mapping[str, bytes]) -> str | None:
    if expected is not None and row["prev_hash"] != expected:
        return "与上一条记录的哈希不衔接（有记录被删除或插入）"
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
    """Every exported head must still be in the chain with the same hash.

    A head that is gone while newer than the archived stretch means the newest rows were
    cut off; a different hash means the chain was rewritten since that day. A head file
    whose signature fails was not written by the job (or under another key).
    """
    anchor = archive_anchor(session)
    archived_through = int(anchor["through_id"]) if anchor else 0
    files = sorted(folder.glob("audit-head-*.json")) if folder.is_dir() else []
    for path in files:
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
            head_id, head_hash = int(head.get("id") or 0), head.get("hash")
        except (ValueError, AttributeError):
            return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                               reason="链头文件无法读取（不是本系统导出的格式）")
        if head_id == 0 or head_id <= archived_through:
            continue  # exported from an empty log, or archived since
        if "mac" in head and not mac_ok(
            keys, {"through_id": head_id, "through_hash": head_hash,
                   "key_id": head.get("key_id"), "mac": head["mac"]}
        ):
            return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                               reason="链头文件的签名无效（文件被伪造或审计密钥不符）")
        stored = session.exec(select(AuditLog.hash).where(AuditLog.id == head_id)).first()
        if stored is None:
            return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                               reason=f"链头记录 {head_id} 已不在审计日志中（最新的记录被截断）")
        if stored != head_hash:
            return HeadsReport(ok=False, checked=len(files), bad_file=path.name,
                               reason=f"记录 {head_id} 的哈希与导出的链头不符（链被改写）")
    return HeadsReport(ok=True, checked=len(files))
