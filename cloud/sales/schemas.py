from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.timeutil import UtcDateTime


class VisitPublic(BaseModel):
    id: str
    site_id: str
    project_id: int
    customer_id: int
    customer_name_masked: str | None
    phone_masked: str
    consultant_id: int | None
    consultant_name: str | None
    party_size: int
    intent: str | None
    source: str
    is_first_visit: bool
    visit_date: date
    occurred_at: UtcDateTime
    edge_occurred_at: UtcDateTime
    time_corrected: bool


class VisitPage(BaseModel):
    items: list[VisitPublic]
    next_cursor: str | None


class CustomerPublic(BaseModel):
    id: int
    project_id: int
    name_masked: str | None
    phone_masked: str
    owner_id: int | None
    status: str
    visit_count: int
    first_visit_at: UtcDateTime
    last_visit_at: UtcDateTime
    protection_until: UtcDateTime


class UnmaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=200, description="查看原因，写入审计")


class UnmaskedContact(BaseModel):
    customer_id: int
    phone: str
    name: str | None


class FollowUpPublic(BaseModel):
    id: str
    site_id: str
    project_id: int
    customer_id: int
    visit_id: str | None
    consultant_id: int
    consultant_name: str | None
    kind: str = Field(description="call 电话 / visit 到访 / wechat 微信 / meeting 面谈")
    reached: bool
    effective: bool = Field(description="有效跟进：联系上客户或到访")
    note: str
    next_at: UtcDateTime | None
    occurred_at: UtcDateTime
    recorded_via: str = Field(description="edge 经案场设备同步 / cloud 直接提交到云端")
    created_at: UtcDateTime
