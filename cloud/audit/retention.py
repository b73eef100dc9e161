"""Audit rows past retention: archived to files outside the database, then deleted.

Each shard is archived on its own (ADR 0059). Its file
(`audit-archive-s<shard>-<first id>-<last id>.jsonl`) starts with a header naming the
shard, the hash the archived stretch chains from and the hash it ends on, then one JSON
line per row with every column, so the stretch can still be verified offline. In the same
transaction as the delete an `audit.archive` row in that shard records the last archived
id and hash: the verifier starts the shard's remaining chain there, so deleting more of
its oldest rows than were archived shows as a broken first link. The database refuses
deleting any row younger than 180 days (migrations 0012 and 0047), whatever the setting
says.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import ARCHIVE_ACTION, chain_shards
from cloud.audit.models import AuditLog
from cloud.db import is_postgres
from cloud.settings import CloudSettings
from shared.dbtypes import table_of
from shared.timeutil import iso, utcnow

_BATCH = 1000


def archive_expired(session: Session, settings: CloudSettings) -> dict[str, Any]:
    cutoff = utcnow() - timedelta(days=settings.audit_retention_days)
    folder = Path(settings.audit_archive_dir)
    # The files first, holding no lock: writing and syncing them is the slow part.
    archived = [(shard, detail) for shard in chain_shards(session)
                if (detail := _write_shard(session, shard, cutoff, folder)) is not None]
    for shard, detail in archived:  # shards' locks in ascending order, held to the commit
        # The archive row before the delete: its parent is the shard's newest row, which
        # may be the last one archived (everything in the shard was old).
        audit_service.record(session, action=ARCHIVE_ACTION, actor="system", shard=shard,
                             object_type="audit_log", object_id=str(detail["through_id"]),
                             detail=detail)
        if is_postgres(session):
            # The application's role has no DELETE on audit_log; this function has, for
            # rows past the legal floor only.
            session.connection().execute(text("SELECT audit_log_prune(:shard, :through)"),
                                         {"shard": shard, "through": detail["through_id"]})
        else:
            session.connection().execute(delete(AuditLog).where(
                col(AuditLog.shard) == shard, col(AuditLog.id) <= detail["through_id"]))
    return {"archived": sum(int(d["rows"]) for _, d in archived),
            "files": [str(folder / d["file"]) for _, d in archived]}


def _write_shard(session: Session, shard: int, cutoff: datetime,
                 folder: Path) -> dict[str, Any] | None:
    """Write the shard's rows older than `cutoff` to a file; the detail of the archive
    row that records them, or None if none is that old."""
    in_shard = col(AuditLog.shard) == shard
    last = session.exec(
        select(AuditLog).where(in_shard, col(AuditLog.at) < cutoff)
        .order_by(col(AuditLog.id).desc()).limit(1)
    ).first()
    if last is None:
        return None
    assert last.id is not None
    first = session.exec(select(AuditLog).where(in_shard)
                         .order_by(col(AuditLog.id)).limit(1)).one()
    folder.mkdir(parents=True, exist_ok=True)
    # Named by shard and id range: a run rolled back after writing is simply written again.
    target = folder / f"audit-archive-s{shard:02d}-{first.id:012d}-{last.id:012d}.jsonl"
    header = {"shard": shard, "from_id": first.id, "anchor_prev_hash": first.prev_hash,
              "through_id": last.id, "through_hash": last.hash, "archived_at": iso(utcnow())}
    rows, digest = _write(session, target, header, shard, last.id)
    return {**header, "rows": rows, "file": target.name, "sha256": digest}


def _write(session: Session, target: Path, header: dict[str, Any], shard: int,
           through_id: int) -> tuple[int, str]:
    """Stream the shard's rows up to `through_id` into the file, fsynced before any is
    deleted."""
    partial = target.with_suffix(".jsonl.partial")
    columns = list(table_of(AuditLog).columns)
    rows = 0
    digest = hashlib.sha256()
    with partial.open("w", encoding="utf-8") as out:
        def emit(value: dict[str, Any]) -> None:
            line = json.dumps(value, ensure_ascii=False, sort_keys=True) + "\n"
            digest.update(line.encode("utf-8"))
            out.write(line)

        emit(header)
        after = 0
        while True:
            batch = session.connection().execute(
                sa_select(*columns).where(col(AuditLog.shard) == shard,
                                          col(AuditLog.id) > after,
                                          col(AuditLog.id) <= through_id)
                .order_by(col(AuditLog.id)).limit(_BATCH)
            ).mappings().all()
            if not batch:
                break
            for row in batch:
                emit({**row, "at": iso(row["at"])})
            rows += len(batch)
            after = batch[-1]["id"]
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return rows, digest.hexdigest()
