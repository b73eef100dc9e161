"""Audit API bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from cloud.audit.models import AuditLog
from cloud.audit.queries import AuditPage
from shared.timeutil import UtcDateTime


class AuditLogOut(BaseModel):
    id: int
    at: UtcDateTime = Field(description="UTC")
    actor_id: int | None
    actor: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    object_label: str | None = Field(
        description="对象的名称：用户为“姓名（登录名）”，案场、项目为名称，客户为脱敏号码；"
                    "对象已不存在或无名称时为空")
    result: str
    detail: dict[str, Any]
    shard: int = Field(description="所在的哈希链（分片）编号；各链独立校验")

    @classmethod
    def of(cls, row: AuditLog, labels: Mapping[tuple[str, str], str]) -> AuditLogOut:
        assert row.id is not None
        return cls(
            id=row.id, at=row.at, actor_id=row.actor_id, actor=row.actor, ip=row.ip,
            action=row.action, object_type=row.object_type, object_id=row.object_id,
            object_label=labels.get((row.object_type, row.object_id)),
            result=row.result, detail=row.detail, shard=row.shard,
        )


class AuditPageOut(BaseModel):
    items: list[AuditLogOut]
    next_cursor: str | None = Field(description="下一页游标（更早的记录）；为空表示没有更多")

    @classmethod
    def of(cls, page: AuditPage, labels: Mapping[tuple[str, str], str]) -> AuditPageOut:
        return cls(
            items=[AuditLogOut.of(r, labels) for r in page.items],
            next_cursor=str(page.next_cursor) if page.next_cursor is not None else None,
        )
