"""Sites and projects (buildings and units are cloud.inventory's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Double
from sqlmodel import Field, SQLModel

from shared.dbtypes import UTCDateTime
from shared.envelope import SITE_ID_PATTERN
from shared.timeutil import utcnow


def utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


# Where a recorded place came from (ADR 0060): the device's own position (a kiosk or a
# consultant's phone that could tell), or the site's configured position.
PLACE_SOURCES = ("device", "site")


class Site(SQLModel, table=True):
    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="ck_site_position_pair"),
    )

    id: str = Field(primary_key=True, max_length=32, regex=SITE_ID_PATTERN)
    name: str = Field(max_length=100)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # The sales office's position, WGS-84, set by HQ or a channel manager (migration
    # 0048): where a guided visit confirmed at its kiosk, or a contract signed "at the
    # office", took place, for the far-signing check (cloud.catalog.position).
    lat: float | None = Field(default=None, sa_type=Double)
    lng: float | None = Field(default=None, sa_type=Double)
    address: str = Field(default="", max_length=200,
                         sa_column_kwargs={"server_default": ""})
    position_set_by: int | None = Field(default=None, foreign_key="app_user.id")
    position_set_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Project(SQLModel, table=True):
    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", index=True, max_length=32)
    name: str = Field(max_length=100)
    city: str = Field(default="", max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())

