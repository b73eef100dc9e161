"""Audit rows past retention: archived to a file outside the database, then deleted.

The file (`audit-archive-<first id>-<last id>.jsonl`) starts with a header naming the
hash the archived stretch chains from and the hash it ends on, then one JSON line per
row with every column, so the stretch can still be verified offline. In the same
transaction as the delete an `audit.archive` row records the last archived id and hash:
the verifier starts the remaining chain there, so deleting more of the oldest rows than
were archived shows as a broken first link. The database refuses deleting any row
younger than 180 days (migration 0012), whatever the setting says.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import ARCHIVE_ACTION
from cloud.audit.models import AuditLog
from cloud.db import is_postgres
from cloud.settings import CloudSettings
from shared.dbtypes import table_of
from shared.timeutil import iso, utcnow

_BATCH = 1000


def archive_expired(session: Session, settings: CloudSettings) -> dict[str, Any]:
    cutoff = utcnow() - timedelta(days=settings.audit_retention_days)
    last = session.exec(
        select(AuditLog).where(col(AuditLog.at) < cutoff)
        .order_by(col(AuditLog.id).desc()).limit(1)
    ).first()
    if last is None:
        return {"archived": 0}
    assert last.id is not None
    first = session.exec(select(AuditLog).order_by(col(AuditLog.id)).limit(1)).one()
    folder = Path(settings.audit_archive_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # Named by id range: a run rolled back after writing is simply written again.
    target = folder / f"audit-archive-{first.id:012d}-{last.id:012d}.jsonl"
    header = {"from_id": first.id, "anchor_prev_hash": first.prev_hash,
              "through_id": last.id, "through_hash": last.hash, "archived_at": iso(utcnow())}
    rows, digest = _write(session, target, header, last.id)
    if is_postgres(session):
        # The application's role has no DELETE on audit_log; this function has, for rows
        # past the legal floor only.
        session.connection().execute(text("SELECT audit_log_prune(:through)"),
                                     {"through": last.id})
    else:
        session.connection().execute(delete(AuditLog).where(col(AuditLog.id) <= last.id))
    audit_service.record(session, action=ARCHIVE_ACTION, actor="system",
                         object_type="audit_log", object_id=str(last.id),
                         detail={**header, "rows": rows, "file": target.name,
                                 "sha256": digest})
    return {"archived": rows, "file": str(target)}


def _write(session: Session, target: Path, header: dict[str, Any],
           through_id: int) -> tuple[int, str]:
    """Stream the rows up to `through_id` into the file, fsynced before any is deleted."""
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
                sa_select(*columns).where(col(AuditLog.id) > after,
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
