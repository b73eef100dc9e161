"""Sites, projects, buildings and units — the minimum the walking skeleton needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.dbtypes import UTCDateTime
from shared.envelope import SITE_ID_PATTERN
from shared.timeutil import utcnow


def utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Site(SQLModel, table=True):
    __tablename__ = "site"

    id: str = Field(primary_key=True, max_length=32, regex=SITE_ID_PATTERN)
    name: str = Field(max_length=100)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Project(SQLModel, table=True):
    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    city: str = Field(default="", max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Building(SQLModel, table=True):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_building_project_name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str = Field(max_length=50)


class Unit(SQLModel, table=True):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("building_id", "code", name="uq_unit_building_code"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    building_id: int = Field(foreign_key="building.id", index=True)
    code: str = Field(max_length=20, description="e.g. 1-2-1801")
    floor: int
    area_sqm_centi: int = Field(description="area in 0.01 m², integer like money")
    list_price_fen: int = Field(ge=0, sa_type=BigInteger, description="list price in fen (分)")
    status: str = Field(default="unreleased", max_length=20)
