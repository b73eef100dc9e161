"""Buildings, units, release batches, holds and the 销控 log of a project.

A floor is the unit's `floor` number: the grid groups a building's units by it, and no
floor carries data of its own that would need a table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_dict
from shared.timeutil import utcnow


class Building(SQLModel, table=True):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_building_project_name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=50, description="楼栋, e.g. 1号楼")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Unit(SQLModel, table=True):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("building_id", "room", name="uq_unit_building_room"),
        CheckConstraint("floor_price_fen <= list_price_fen", name="ck_unit_floor_price"),
        Index("ix_unit_grid", "project_id", "building_id", "floor"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    building_id: int = Field(foreign_key="building.id", index=True)
    floor: int = Field(description="floor number; negative below ground")
    room: str = Field(max_length=20, description="房号 within the building, e.g. 1801")
    layout: str = Field(max_length=30, description="户型, e.g. 三室两厅两卫")
    area_centi: int = Field(gt=0, description="建筑面积 in 0.01 m²")
    list_price_fen: int = Field(ge=0, sa_type=BigInteger, description="表价 (total) in fen")
    floor_price_fen: int = Field(ge=0, sa_type=BigInteger, description="底价 (total) in fen")
    state: str = Field(default="unreleased", max_length=20, description="cloud.inventory.states")
    batch_id: int | None = Field(default=None, foreign_key="release_batch.id", index=True)
    hold_until: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True),
        description="end of a 预留; the expiry job returns the unit to 待售 after it")
    control_reason: str = Field(default="", max_length=200, description="why 销控 holds it")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ReleaseBatch(SQLModel, table=True):
    """A release (推盘): the first opening or a later 加推."""

    __tablename__ = "release_batch"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_release_batch_name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=50)
    kind: str = Field(max_length=20, description="first_opening | add_on")
    unit_count: int = 0
    released_by: int = Field(foreign_key="app_user.id")
    released_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class UnitHold(SQLModel, table=True):
    """A request to reserve (预留) a unit for a customer; a manager approves it."""

    __tablename__ = "unit_hold"
    __table_args__ = (Index("ix_unit_hold_project_status", "project_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    reason: str = Field(max_length=200)
    days: int = Field(ge=1, description="asked length; capped by the project's setting")
    status: str = Field(default="pending", max_length=20,
                        description="pending | approved | rejected | cancelled")
    requested_by: int = Field(foreign_key="app_user.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decision_note: str = Field(default="", max_length=200)


class UnitLog(SQLModel, table=True):
    """The 销控 log: one row per change of a unit's state."""

    __tablename__ = "unit_log"
    __table_args__ = (Index("ix_unit_log_project_id", "project_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    action: str = Field(max_length=20)
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id",
                                 description="None: the system (expiry job)")
    reason: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class InventoryProject(SQLModel, table=True):
    """Per project: the grid's version (bumped by every change, the grid's ETag), the grid
    colours and the numbers the rules page makes settings."""

    __tablename__ = "inventory_project"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    version: int = Field(default=0, sa_type=BigInteger)
    colours: dict[str, Any] = Field(default_factory=empty_dict,
                                   sa_column=Column(JSON, nullable=False))
    reserve_max_days: int = Field(default=3, ge=1, le=30)
    pledge_unreleased: bool = Field(default=False,
                                    description="a pledge may bind an unreleased unit")
