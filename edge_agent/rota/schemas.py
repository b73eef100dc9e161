"""Request and response bodies of the rota API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

RotaAction = Literal["check_in", "check_out", "turn_consumed"]


class DutyIn(BaseModel):
    """Check a consultant in (上岗) or out (下岗)."""

    model_config = ConfigDict(extra="forbid")

    consultant_id: int = Field(ge=1, le=DB_INT_MAX)


class RotaConsultantOut(BaseModel):
    id: int
    name: str
    on_duty: bool
    position: int | None = Field(description="1 = next to receive; null when off duty")
    checked_in_at: UtcDateTime | None = Field(description="latest check-in today")
    checked_out_at: UtcDateTime | None
    received_today: int = Field(description="new customers (first visits) received today")
    return_visits_today: int = Field(description="return visits received today (no turn)")


class RotaBoardOut(BaseModel):
    duty_date: date = Field(description="Asia/Shanghai calendar day")
    next_consultant_id: int | None = Field(description="head of the queue")
    consultants: list[RotaConsultantOut] = Field(
        description="on-duty consultants in queue order, then the others by name"
    )


class DutyChangeOut(RotaBoardOut):
    changed: bool = Field(description="false when the consultant already was in that state")


class RotaEventOut(BaseModel):
    id: int
    occurred_at: UtcDateTime
    consultant_id: int
    consultant_name: str | None
    action: RotaAction
    actor: str
    reason: str
    visit_id: uuid.UUID | None
    position_before: int | None
    position_after: int | None
