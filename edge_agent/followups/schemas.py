"""Bodies of the consultant follow-up routes."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from edge_agent.kiosk.schemas import VisitOut
from shared.timeutil import UtcDateTime


class FollowUpOut(BaseModel):
    id: uuid.UUID
    visit_id: uuid.UUID | None
    project_id: int
    phone_masked: str
    consultant_id: int
    kind: Literal["call", "visit", "wechat", "meeting"]
    reached: bool
    effective: bool = Field(description="有效跟进：联系上客户或到访")
    note: str
    next_at: UtcDateTime | None
    occurred_at: UtcDateTime
    recorded_at: UtcDateTime
    seq: int = Field(description="the outbox event that carries it to the cloud")


class MyVisitOut(VisitOut):
    follow_up_count: int = Field(description="follow-ups recorded on this visit so far")
