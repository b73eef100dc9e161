"""Risk (渠道风控) tables: each project's policy and the review cases checks raise."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_dict
from shared.timeutil import utcnow

CASE_STATES = ("open", "confirmed", "dismissed")
SEVERITIES = ("flag", "review", "block")


class RiskPolicy(SQLModel, table=True):
    """A project's risk settings: each check's action and parameters, and the appeal
    deadline. A project without a row uses the defaults of cloud.channel.risk_checks."""

    __tablename__ = "channel_risk_policy"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    appeal_deadline_days: int = 7
    checks: dict[str, Any] = Field(default_factory=empty_dict,
                                   sa_column=Column(JSON, nullable=False))
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class RiskCase(SQLModel, table=True):
    """A review case: one check that fired for one referral, with its evidence — or, for
    a check about a site rather than a referral (visits never registered at reception,
    migration 0041), for one `subject_key` of it (site and day)."""

    __tablename__ = "channel_risk_case"
    __table_args__ = (
        CheckConstraint(f"state IN {CASE_STATES!r}", name="ck_channel_risk_case_state"),
        CheckConstraint(f"severity IN {SEVERITIES!r}", name="ck_channel_risk_case_severity"),
        # One case per check and referral: a check run again finds its case.
        UniqueConstraint("referral_id", "check_code", name="uq_channel_risk_case_check"),
        UniqueConstraint("subject_key", "check_code", name="uq_channel_risk_case_subject"),
        Index("ix_channel_risk_case_project_state", "project_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    referral_id: int | None = Field(default=None, foreign_key="channel_referral.id",
                                    index=True)
    broker_id: int | None = Field(default=None, foreign_key="channel_broker.id")
    subject_key: str | None = Field(default=None, max_length=64)
    check_code: str = Field(max_length=40)
    stage: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    summary: str = Field(max_length=300)
    evidence: dict[str, Any] = Field(default_factory=empty_dict,
                                   sa_column=Column(JSON, nullable=False))
    state: str = Field(default="open", max_length=16)
    reviewer_id: int | None = Field(default=None, foreign_key="app_user.id")
    comment: str | None = Field(default=None, max_length=1000)
    voided: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ScanWatermark(SQLModel, table=True):
    """How far a scheduled channel scan has looked (channel.risk_scan): the next run
    rechecks only the referrals whose facts arrived since."""

    __tablename__ = "channel_scan_watermark"

    job: str = Field(primary_key=True, max_length=64)
    scanned_through: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
