"""Reading and exporting the audit log: audit administrators only, and audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query
from fastapi.responses import Response

from cloud.audit import queries as audit_queries
from cloud.audit import service as audit_service
from cloud.audit.models import AuditLog
from cloud.audit.objects import object_labels
from cloud.audit.queries import AuditFilter
from cloud.audit.schemas import AuditPageOut
from cloud.db import SessionDep
from cloud.downloads import EXPORT_MAX_ROWS, attachment, beijing_stamp, beijing_text, neutralise
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_BIGINT_MAX
from shared.timeutil import SHANGHAI, as_utc

router = DomainRouter(tags=["audit 安全审计"])

CSV_HEADER = ("编号", "时间（北京时间）", "操作人", "操作人ID", "来源IP", "事件", "对象类型",
              "对象ID", "结果", "详情")
_RESULT_NAMES = {"success": "成功", "failure": "失败", "denied": "越权被拒"}

AuditReader = Annotated[Principal, Depends(authorize(Perm.AUDIT_READ))]
AuditExporter = Annotated[Principal, Depends(authorize(Perm.AUDIT_EXPORT))]


def _as_instant(value: datetime | None) -> datetime | None:
    # The console works in Beijing time; a time without a zone means that.
    if value is None:
        return None
    return as_utc(value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value)


async def audit_filter(
    # async: it does no I/O, and a synchronous dependency costs a thread-pool hop.
    action: Annotated[str | None, Query(max_length=64, description="事件前缀，如 auth.")] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    result: Literal["success", "failure", "denied"] | None = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from", description="起始时间（含）")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="结束时间（不含）")] = None,
) -> AuditFilter:
    return AuditFilter(
        action_prefix=action, actor=actor, result=result, object_type=object_type,
        object_id=object_id, since=_as_instant(since), until=_as_instant(until),
    )


AuditFilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/audit/logs", response_model=AuditPageOut, summary="查询审计日志（新的在前）")
def list_logs(
    principal: AuditReader,
    filters: AuditFilterDep,
    session: SessionDep,
    cursor: Annotated[int | None, Query(ge=0, le=DB_BIGINT_MAX,
                                        description="上一页返回的 next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPageOut:
    page = audit_queries.search(session, filters=filters, cursor=cursor, limit=limit)
    audit_service.record(
        session, action="audit.read", principal=principal, object_type="audit_log",
        detail={"filters": filters.as_detail(), "cursor": cursor, "count": len(page.items)},
    )
    return AuditPageOut.of(page, object_labels(session, page.items))


@router.get("/audit/logs/export", summary="导出审计日志（CSV，Excel 可直接打开）",
            response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 BOM CSV"}})
def export_logs(principal: AuditExporter, filters: AuditFilterDep, session: SessionDep) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    count = 0
    truncated = False
    for row in audit_queries.iter_matching(session, filters=filters,
                                           max_rows=EXPORT_MAX_ROWS + 1):
        if count == EXPORT_MAX_ROWS:
            truncated = True
            break
        writer.writerow(_csv_row(row))
        session.expunge(row)  # a large export must not pile up in the identity map
        count += 1
    audit_service.record(
        session, action="audit.export", principal=principal, object_type="audit_log",
        detail={"filters": filters.as_detail(), "count": count, "truncated": truncated},
    )
    stamp = beijing_stamp()
    return attachment(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
        filename=f"审计日志-{stamp}.csv", ascii_filename=f"audit-log-{stamp}.csv",
        truncated=truncated,
    )


def _csv_row(row: AuditLog) -> list[str]:
    cells = [
        str(row.id),
        beijing_text(row.at),
        row.actor,
        "" if row.actor_id is None else str(row.actor_id),
        row.ip or "",
        row.action,
        row.object_type,
        row.object_id,
        _RESULT_NAMES.get(row.result, row.result),
        json.dumps(row.detail, ensure_ascii=False, sort_keys=True) if row.detail else "",
    ]
    return [neutralise(c) for c in cells]
