"""Audit's scheduled duties: a signed checkpoint in every shard and the shards' heads
written daily outside the database, and rows past retention archived
(cloud/audit/retention.py).

Whoever can rewrite the database can rewrite a whole shard consistently, or cut its
newest rows off. The checkpoint row carries an HMAC, under a key the database never sees,
of the row before it in its shard, so a rewrite cannot re-sign it; the head file, kept
elsewhere (another disk, a mounted object store, copied off-site with the backups), names
every shard's head under one HMAC, which cutting rows off cannot match. One file per day,
`audit-head-YYYYMMDD.json` (Asia/Shanghai date), written atomically; a second run the
same day replaces it with the newer heads.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.audit.chain import CHECKPOINT_ACTION, chain_shards, checkpoint_detail, heads_mac
from cloud.audit.models import AuditLog
from cloud.audit.retention import archive_expired
from cloud.jobs.registry import Job, register
from cloud.settings import CloudSettings
from shared.timeutil import iso, shanghai_date, utcnow


def export_head(session: Session, settings: CloudSettings) -> dict[str, Any]:
    keys = settings.chain_keys
    shards = chain_shards(session)
    # Every shard's lock from here, in ascending order (an audited transaction holds one
    # shard's at most, so none waits on this job crosswise): each checkpoint follows the
    # row it names, and the file is one cut through all shards.
    for shard in shards:
        audit_service.lock_chain(session, shard)
    heads: list[dict[str, Any]] = []
    for shard in shards:
        head = session.exec(select(AuditLog).where(AuditLog.shard == shard)
                            .order_by(col(AuditLog.id).desc()).limit(1)).one()
        assert head.id is not None
        at, head_id, head_hash = head.at, head.id, head.hash
        if head.action != CHECKPOINT_ACTION:  # an idle shard gets no new row every day
            entry = audit_service.record(
                session, action=CHECKPOINT_ACTION, actor="system", shard=shard,
                detail={**checkpoint_detail(keys, head_id, head_hash), "shard": shard})
            assert entry.id is not None
            at, head_id, head_hash = entry.at, entry.id, entry.hash
        heads.append({"shard": shard, "id": head_id, "hash": head_hash, "at": iso(at)})
    now = utcnow()
    # The checkpoints themselves are the heads: the file signs them all at once.
    record: dict[str, Any] = {"heads": heads, "exported_at": iso(now)}
    if heads:
        key_id, key = next(iter(keys.items()))  # the ring's first key is the active one
        record |= {"key_id": key_id, "mac": heads_mac(key, heads)}
    folder = Path(settings.audit_head_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"audit-head-{shanghai_date(now):%Y%m%d}.json"
    partial = target.with_suffix(".json.partial")
    with partial.open("w", encoding="utf-8") as out:
        json.dump(record, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return {"shards": len(heads), "head_id": max((h["id"] for h in heads), default=0),
            "file": str(target)}


register(Job("audit.export_head", export_head, every=timedelta(days=1),
             description="为审计哈希链签名检查点，并把链头导出到数据库之外"))
register(Job("audit.archive_expired", archive_expired, every=timedelta(days=1),
             description="把超过保存期限的审计记录归档到数据库之外并删除"))
