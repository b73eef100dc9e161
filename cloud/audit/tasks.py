"""Audit's scheduled duties: a signed checkpoint and the chain's head written daily
outside the database, and rows past retention archived (cloud/audit/retention.py).

Whoever can rewrite the database can rewrite the whole chain consistently, or cut its
newest rows off. The checkpoint row carries an HMAC, under a key the database never sees,
of the row before it, so a rewrite cannot re-sign it; the head file, kept elsewhere
(another disk, a mounted object store, copied off-site with the backups), is what cutting
rows off cannot match. One file per day, `audit-head-YYYYMMDD.json` (Asia/Shanghai date),
written atomically; a second run the same day replaces it with the newer head.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import CHECKPOINT_ACTION, checkpoint_detail
from cloud.audit.models import AuditLog
from cloud.audit.retention import archive_expired
from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings
from shared.timeutil import iso, shanghai_date, utcnow


def export_head(session: Session, settings: CloudSettings) -> dict[str, Any]:
    # Under the chain's lock from here: the checkpoint follows the row it names.
    audit_service.lock_chain(session)
    previous = session.exec(
        select(AuditLog).order_by(col(AuditLog.id).desc()).limit(1)
    ).first()
    if previous is not None:
        assert previous.id is not None
        audit_service.record(session, action=CHECKPOINT_ACTION, actor="system", immediate=True,
                             detail=checkpoint_detail(settings.chain_keys, previous.id,
                                                      previous.hash))
    # The checkpoint itself is the head: a file naming it is signed the same way.
    head = session.exec(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(1)).first()
    now = utcnow()
    record: dict[str, Any] = {
        "id": head.id if head else 0,
        "hash": head.hash if head else None,
        "at": iso(head.at) if head else None,
        "exported_at": iso(now),
    }
    if head is not None:
        assert head.id is not None
        signed = checkpoint_detail(settings.chain_keys, head.id, head.hash)
        record |= {"key_id": signed["key_id"], "mac": signed["mac"]}
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
             description="为审计哈希链签名检查点，并把链头导出到数据库之外"))
register(Job("audit.archive_expired", archive_expired, every=timedelta(days=1),
             description="把超过保存期限的审计记录归档到数据库之外并删除"))
