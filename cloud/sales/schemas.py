from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


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
    occurred_at: datetime
    edge_occurred_at: datetime
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
    first_visit_at: datetime
    last_visit_at: datetime
    protection_until: datetime


class UnmaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=200, description="查看原因，写入审计")


class UnmaskedContact(BaseModel):
    customer_id: int
    phone: str
    name: str | None
