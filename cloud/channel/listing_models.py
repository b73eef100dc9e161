"""What brokers are shown about projects: each project's profile (区域, price band,
layouts, cooperation terms) and the channel campaigns (渠道活动) published on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_list
from shared.timeutil import utcnow

CAMPAIGN_STATUSES = ("draft", "published", "ended")


class ProjectProfile(SQLModel, table=True):
    """A project as brokers see it, edited by channel staff. Prices are whole yuan of a
    home's total price (integers: no fractions of a yuan in a price band)."""

    __tablename__ = "channel_project_profile"
    __table_args__ = (
        CheckConstraint("price_min_yuan IS NULL OR price_min_yuan >= 0",
                        name="ck_channel_profile_price_min"),
        CheckConstraint("price_max_yuan IS NULL OR price_min_yuan IS NULL "
                        "OR price_max_yuan >= price_min_yuan",
                        name="ck_channel_profile_price_band"),
    )

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    district: str = Field(default="", max_length=40, index=True)
    price_min_yuan: int | None = Field(default=None)
    price_max_yuan: int | None = Field(default=None)
    layouts: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    cooperation: str = Field(default="", max_length=2000)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Campaign(SQLModel, table=True):
    """渠道活动: requirements, rewards and an announcement over a period, on projects."""

    __tablename__ = "channel_campaign"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'ended')",
                        name="ck_channel_campaign_status"),
        CheckConstraint("ends_at > starts_at", name="ck_channel_campaign_period"),
        Index("ix_channel_campaign_status_published", "status", "published_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    requirements: str = Field(default="", max_length=2000)
    rewards: str = Field(default="", max_length=2000)
    announcement: str = Field(default="", max_length=2000)
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())
    status: str = Field(default="draft", max_length=16)
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class CampaignProject(SQLModel, table=True):
    """The projects a campaign runs on."""

    __tablename__ = "channel_campaign_project"

    campaign_id: int = Field(foreign_key="channel_campaign.id", primary_key=True)
    project_id: int = Field(foreign_key="project.id", primary_key=True, index=True)
