"""Audit's scheduled duties: the chain's head written daily outside the database.

Whoever can rewrite the database can rewrite the whole chain consistently, or cut its
newest rows off; a head kept elsewhere (another disk, a mounted object store, copied
off-site with the backups) is what such a rewrite cannot match. One file per day,
`audit-head-YYYYMMDD.json` (Asia/Shanghai date), written atomically; a second run the
same day replaces it with the newer head.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings
from shared.timeutil import iso, shanghai_date, utcnow


def export_head(session: Session, settings: CloudSettings) -> dict[str, Any]:
    head = session.exec(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(1)).first()
    now = utcnow()
    record = {
        "id": head.id if head else 0,
        "hash": head.hash if head else None,
        "at": iso(head.at) if head else None,
        "exported_at": iso(now),
    }
    folder = Path(settings.audit_head_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"audit-head-{shanghai_date(now):%Y%m%d}.json"
    partial = target.with_suffix(".json.partial")
    with partial.open("w", encoding="utf-8") as out:
        json.dump(record, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return {"head_id": record["id"], "file": str(target)}


register(Job("audit.export_head", export_head, every=timedelta(days=1),
             description="导出审计哈希链的链头到数据库之外"))
