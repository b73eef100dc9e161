"""Sites and projects (buildings and units are cloud.inventory's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
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

