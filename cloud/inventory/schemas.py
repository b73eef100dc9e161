"""Request and response bodies of the inventory routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cloud.inventory.states import Action, State
from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
ConsoleAction = Literal["withdraw", "unreserve", "control", "uncontrol"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitCell(BaseModel):
    id: int
    room: str
    floor: int
    layout: str
    area_centi: int
    list_price_fen: int
    floor_price_fen: int | None = Field(description="底价; only for those who see all units")
    state: State
    hold_until: UtcDateTime | None
    control_reason: str
    batch_id: int | None


class FloorRow(BaseModel):
    floor: int
    units: list[UnitCell]


class BuildingGrid(BaseModel):
    id: int
    name: str
    floors: list[FloorRow]


class StateName(BaseModel):
    code: State
    name: str


class Grid(BaseModel):
    project_id: int
    version: int = Field(description="bumped by every change; the ETag carries it")
    full: bool = Field(description="unreleased units and floor prices included")
    colours: dict[str, str]
    states: list[StateName]
    buildings: list[BuildingGrid]


class TransitionIn(Strict):
    action: ConsoleAction
    reason: Reason = ""


class UnitLogOut(BaseModel):
    id: int
    unit_id: int
    building: str
    room: str
    action: Action
    from_state: State
    to_state: State
    actor_id: int | None
    actor_name: str
    reason: str
    at: UtcDateTime


class BatchIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    kind: Literal["first_opening", "add_on"]
    unit_ids: list[Annotated[int, Field(ge=1, le=DB_INT_MAX)]] = Field(
        min_length=1, max_length=5000)


class BatchOut(BaseModel):
    id: int
    project_id: int
    name: str
    kind: str
    unit_count: int
    released_by: int
    released_at: UtcDateTime


class HoldIn(Strict):
    reason: Reason = Field(min_length=1)
    days: int = Field(ge=1, le=30)
    customer_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX)


class DecisionIn(Strict):
    note: Reason = ""


class HoldOut(BaseModel):
    id: int
    project_id: int
    unit_id: int
    customer_id: int | None
    reason: str
    days: int
    status: str
    requested_by: int
    requested_at: UtcDateTime
    decided_by: int | None
    decided_at: UtcDateTime | None
    decision_note: str


class SettingsIn(Strict):
    colours: dict[State, Colour] = Field(default_factory=dict)
    reserve_max_days: int = Field(default=3, ge=1, le=30)
    pledge_unreleased: bool = False


class SettingsOut(BaseModel):
    project_id: int
    colours: dict[str, str]
    reserve_max_days: int
    pledge_unreleased: bool


class ImportOut(BaseModel):
    buildings_created: int
    units_created: int
