"""Response bodies of the reception routes."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from shared.reception import ReceptionRules
from shared.timeutil import UtcDateTime


class RotaEventPublic(BaseModel):
    id: str
    site_id: str
    duty_date: date
    occurred_at: UtcDateTime
    consultant_id: int
    consultant_name: str | None
    action: str
    actor: str
    reason: str
    away_reason: str | None
    visit_id: str | None
    position_before: int | None
    position_after: int | None
    detail: dict[str, Any]


class VisitProfilePublic(BaseModel):
    visit_id: str
    gender: str | None = None
    awareness: str | None = Field(None, description="认知途径")
    layout: str | None = None
    area_min: int | None = None
    area_max: int | None = None
    budget_min: int | None = Field(None, description="万元")
    budget_max: int | None = Field(None, description="万元")
    purpose: str | None = Field(None, description="own_use 自住 / investment 投资")
    grade: str | None = None
    phone_region: str | None = Field(None, description="号码归属地")
    consumed_turn: bool | None = None
    stand_in_for_id: int | None = Field(None, description="义务接待：代为接待的归属顾问")
    stand_in_share: int | None = Field(None, description="义务接待者在当日成交中的份额（%）")
    claimable_until: date | None = None
    revision: int = 0
    corrected_by: int | None = None
    corrected_at: UtcDateTime | None = None


class ReceptionSettingsOut(BaseModel):
    """A project's reception settings, the rules page's defaults beside them, and the
    last change: when, by whom, from where (`console` or `site:<id>`: the appliance)."""

    project_id: int
    rules: ReceptionRules
    defaults: ReceptionRules
    changed_at: UtcDateTime | None = None
    changed_by: int | None = None
    changed_by_name: str | None = None
    changed_via: str | None = None
