"""Request and response bodies of the rota API."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import DB_INT_MAX
from shared.events import Text
from shared.reception import AwayReason, OrderMode, PenaltyKind
from shared.reception_events import RotaAction
from shared.timeutil import UtcDateTime

__all__ = ["RotaAction"]


class DutyIn(BaseModel):
    """Check a consultant in (上岗) or out (下岗), or back (回岗)."""

    model_config = ConfigDict(extra="forbid")

    consultant_id: int = Field(ge=1, le=DB_INT_MAX)


class AwayIn(DutyIn):
    """离开: a make-up reason keeps the place (补接); leave, rest or a private errand go to
    the tail or off today's queue (the project's setting)."""

    reason: AwayReason
    note: Text = Field("", max_length=60, description="补充说明，如批准的经理")


class PenaltyIn(DutyIn):
    kind: PenaltyKind = Field(description="refusal 拒接 / skipped_question 漏问 / "
                              "cherry_picking 挑客")
    note: Text = Field(min_length=2, max_length=100, description="经过说明（必填）")


class PenaltyOut(BaseModel):
    kind: PenaltyKind
    suspended_until: date | None = None
    skip_turns: int | None = None


class RotaConsultantOut(BaseModel):
    id: int
    name: str
    on_duty: bool
    position: int | None = Field(description="1 = head of the queue; null when off duty")
    checked_in_at: UtcDateTime | None = Field(description="latest check-in today")
    checked_out_at: UtcDateTime | None
    received_today: int = Field(description="new customers (first visits) received today")
    return_visits_today: int = Field(description="return visits received today (no turn)")
    counted_today: int = Field(0, description="receptions that used a turn today")
    away_reason: AwayReason | None = Field(None, description="离开原因；null = 在岗")
    away_since: UtcDateTime | None = None
    skip_turns: int = Field(0, description="penalty turns still to lose")
    suspended_until: date | None = Field(None, description="暂停接待至（含）")


class RotaBoardOut(BaseModel):
    duty_date: date = Field(description="Asia/Shanghai calendar day")
    next_consultant_id: int | None = Field(
        description="next to receive: the head, passing those away or owing a turn")
    order_mode: OrderMode = "check_in"
    work_start: time = time.min
    work_end: time = time.max
    in_working_hours: bool = True
    consultants: list[RotaConsultantOut] = Field(
        description="on-duty consultants in queue order, then the others by id"
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
    away_reason: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class HqChangeOut(BaseModel):
    """The HQ console's last change that replaced this office's reception settings."""

    changed_at: UtcDateTime = Field(description="when HQ made it (UTC)")
    changed_by_name: str | None = Field(description="who, when on this office's roster")
    fields: list[str] = Field(description="the settings it changed, as the console names them")
