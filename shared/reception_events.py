"""Up-stream event types of reception: rota changes, visit profiles and incoming calls.

`visit.profiled` is a type of its own rather than new fields of `visit.registered`:
payloads forbid unknown fields, so a cloud that does not know the profile refuses only
this event (`unsupported_type`) and still applies the visit (docs/sync-protocol.md §14).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from shared.bounds import DB_INT_MAX
from shared.events import DbId, EventTime, Text, VisitSource
from shared.phone import MOBILE_PATTERN
from shared.reception import Awareness, AwayReason, Gender, Grade, Purpose

ROTA_CHANGED = "rota.changed"
VISIT_PROFILED = "visit.profiled"

RotaAction = Literal[
    "check_in", "check_out", "turn_consumed", "turn_not_counted", "away", "back",
    "penalty", "turn_skipped", "suspended", "stand_in", "claimed", "settings_changed",
]
Position = Annotated[int, Strict(), Field(ge=1, le=10_000)]
SmallInt = Annotated[int, Strict(), Field(ge=0, le=100_000)]


class RotaChanged(BaseModel):
    """One change of a site's reception queue (轮岗), with who made it and why.

    `actor` is `kiosk:<tablet>`, `user:<id>` (a manager on the staff app) or
    `kiosk:visit` (a registration). `detail` holds what the action needs: the owner of a
    stand-in reception, the receiver of a claimed visit, the settings changed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rota_event_id: UUID
    project_id: DbId
    duty_date: date
    occurred_at: EventTime
    consultant_id: DbId
    action: RotaAction
    actor: Text = Field(min_length=1, max_length=64)
    reason: Text = Field(min_length=1, max_length=200)
    away_reason: AwayReason | None = None
    visit_id: UUID | None = None
    position_before: Position | None = None
    position_after: Position | None = None
    detail: dict[str, Any] = Field(default_factory=dict, max_length=20)


class VisitProfile(BaseModel):
    """What reception records about a visit beyond `visit.registered`."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    gender: Gender | None = None
    awareness: Awareness | None = Field(None, description="认知途径")
    layout: Text | None = Field(None, max_length=30, description="意向户型，如 三室两厅")
    area_min: SmallInt | None = Field(None, description="意向面积下限（㎡）")
    area_max: SmallInt | None = Field(None, description="意向面积上限（㎡）")
    budget_min: SmallInt | None = Field(None, description="预算下限（万元）")
    budget_max: SmallInt | None = Field(None, description="预算上限（万元）")
    purpose: Purpose | None = Field(None, description="自住 / 投资")
    grade: Grade | None = Field(None, description="客户等级 A–D")

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        for low, high in ((self.area_min, self.area_max), (self.budget_min, self.budget_max)):
            if low is not None and high is not None and low > high:
                raise ValueError("a range's minimum must not exceed its maximum")
        return self


class VisitProfiled(BaseModel):
    """The profile of visit `visit_id` (revision 0, written with the registration) or a
    manager's same-day correction of it (revision ≥ 1, `corrected_by` and `reason`).

    `stand_in_for` names the absent owner a 义务接待 received for, `stand_in_share` the
    stand-in's percent of a deal closed that day; `claimable_until` the last day a
    "came before, forgot the name" visit may be claimed by its earlier consultant;
    `consumed_turn` whether the reception used a rota turn.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    visit_id: UUID
    project_id: DbId
    revision: Annotated[int, Strict(), Field(ge=0, le=1000)] = 0
    profile: VisitProfile
    party_size: Annotated[int, Strict(), Field(ge=1, le=50)] | None = None
    source: VisitSource | None = None
    consumed_turn: bool | None = None
    stand_in_for: DbId | None = None
    stand_in_share: Annotated[int, Strict(), Field(ge=0, le=100)] | None = None
    claimable_until: date | None = None
    corrected_by: DbId | None = None
    reason: Text | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _correction(self) -> Self:
        if self.revision > 0 and (self.corrected_by is None or not self.reason):
            raise ValueError("a correction names its manager and reason")
        return self


CALL_RECORDED = "call.recorded"


class CallRecorded(BaseModel):
    """An incoming call (来电登记) registered on the appliance, by the receptionist at the
    kiosk or by the consultant who answered it on the phone app. `phone` is the
    normalised number; `occurred_at` the appliance's clock; `recorded_by` who wrote it
    (`kiosk:<tablet>` or `user:<id>`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_id: UUID
    project_id: DbId
    phone: str = Field(pattern=MOBILE_PATTERN)
    name: Text | None = Field(None, max_length=50)
    awareness: Awareness | None = None
    consultant_id: DbId | None = None
    occurred_at: EventTime
    recorded_by: Text = Field(min_length=1, max_length=64)


class CallDraft(BaseModel):
    """A call as the kiosk or the consultant PWA sends it: `id` is made on the device and
    doubles as the Idempotency-Key, so a retry finds the call it wrote. The PWA queues a
    call on the phone while the appliance is out of reach and says when it saved it
    (`occurred_at`), so a call sent late still counts on the day it came in (ADR 0062)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: UUID = Field(description="来电记录 id（终端生成，同时作为 Idempotency-Key）")
    phone: str = Field(min_length=1, max_length=40, description="来电号码")
    name: Text | None = Field(None, max_length=50, description="来电人姓名（选填）")
    awareness: Awareness | None = Field(None, description="认知途径")
    project_id: int | None = Field(None, ge=1, le=DB_INT_MAX,
                                   description="项目；缺省为本案场默认项目")
    consultant_id: int | None = Field(
        None, ge=1, le=DB_INT_MAX,
        description="接听的置业顾问（前台登记时选择；顾问手机登记时为本人）")
    occurred_at: EventTime | None = Field(
        None, description="来电时间（顾问手机离线保存时的手机时钟，不晚于设备时钟）；"
                          "缺省为设备收到时")
