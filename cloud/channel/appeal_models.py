"""Appeal (申诉) tables: appeals, their evidence files, the overrides decisions make, and
the notifications a broker reads in the H5."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_dict
from shared.timeutil import utcnow

APPEAL_KINDS = ("referral", "deal")  # 报备申诉 / 成交申诉
APPEAL_STATES = ("submitted", "under_review", "upheld", "rejected", "withdrawn")
OVERRIDE_SOURCES = ("appeal", "risk_case")


class Appeal(SQLModel, table=True):
    """A broker's appeal of a referral's refusal, invalidation or attribution."""

    __tablename__ = "channel_appeal"
    __table_args__ = (
        CheckConstraint(f"kind IN {APPEAL_KINDS!r}", name="ck_channel_appeal_kind"),
        CheckConstraint(f"state IN {APPEAL_STATES!r}", name="ck_channel_appeal_state"),
        Index("ix_channel_appeal_broker_created", "broker_id", "created_at"),
        Index("ix_channel_appeal_project_state", "project_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="channel_referral.id", index=True)
    project_id: int = Field(foreign_key="project.id")
    broker_id: int = Field(foreign_key="channel_broker.id")
    agency_id: int | None = Field(default=None, foreign_key="channel_agency.id", index=True)
    kind: str = Field(max_length=16)
    reason: str = Field(max_length=1000)
    state: str = Field(default="submitted", max_length=16)
    # What was appealed, as it stood: the referral's state and reason at submission.
    appealed_state: str = Field(max_length=16)
    appealed_reason: str = Field(max_length=40)
    deadline: datetime = Field(sa_column=utc_column())
    reviewer_id: int | None = Field(default=None, foreign_key="app_user.id")
    decision_comment: str | None = Field(default=None, max_length=1000)
    override_id: int | None = Field(default=None, foreign_key="channel_referral_override.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AppealEvidence(SQLModel, table=True):
    """One evidence file: stored under a random key; the broker's file name is kept only
    as a label, cleaned."""

    __tablename__ = "channel_appeal_evidence"
    __table_args__ = (UniqueConstraint("object_key", name="uq_channel_appeal_evidence_key"),)

    id: int | None = Field(default=None, primary_key=True)
    appeal_id: int = Field(foreign_key="channel_appeal.id", index=True)
    object_key: str = Field(max_length=80)
    filename: str = Field(max_length=100)
    content_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ReferralOverride(SQLModel, table=True):
    """A person's decision that replaced the engine's state of a referral: who, why, from
    which appeal or risk case, and the engine's own decision kept beside it."""

    __tablename__ = "channel_referral_override"
    __table_args__ = (
        CheckConstraint(f"source IN {OVERRIDE_SOURCES!r}",
                        name="ck_channel_referral_override_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="channel_referral.id", index=True)
    state: str = Field(max_length=16)
    # appeal_upheld / risk_voided / risk_blocked: the engine reads the override as a fact.
    reason_code: str = Field(max_length=40)
    engine_state: str = Field(max_length=16)
    engine_reason: str = Field(max_length=40)
    source: str = Field(max_length=16)
    source_id: int
    comment: str = Field(max_length=1000)
    decided_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Notification(SQLModel, table=True):
    """A message to one user (the broker's H5 lists them)."""

    __tablename__ = "channel_notification"
    __table_args__ = (
        Index("ix_channel_notification_user_created", "user_id", "created_at"),
        Index("ix_channel_notification_push_pending", "id",
              postgresql_where=text("push_state = 'pending'"),
              sqlite_where=text("push_state = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    kind: str = Field(max_length=40)
    title: str = Field(max_length=100)
    body: str = Field(max_length=500)
    data: dict[str, Any] = Field(default_factory=empty_dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    read_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # WeChat template message (wechat_push.py): pending → sent / skipped (no follower, no
    # template) / failed (after PUSH_TRIES); null for rows older than the push.
    push_state: str | None = Field(default=None, max_length=8)
    push_tries: int = Field(default=0)
    pushed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
