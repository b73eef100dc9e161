"""智能拓客 tables: a broker's share links (分享), the opens and page views of the public
page, and the leads (线索) visitors leave on it (ADR 0026: what is kept of a visitor)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow

SHARE_KINDS = ("project", "campaign")
SHARE_EVENT_KINDS = ("open", "view")


class Share(SQLModel, table=True):
    """One link a broker sent out: a project profile or a campaign. The link carries a
    signed token (cloud.channel.share_tokens) naming this row, its broker and target."""

    __tablename__ = "channel_share"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'project' AND project_id IS NOT NULL AND campaign_id IS NULL) OR "
            "(kind = 'campaign' AND campaign_id IS NOT NULL AND project_id IS NULL)",
            name="ck_channel_share_target"),
        Index("ix_channel_share_broker_created", "broker_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broker_id: int = Field(foreign_key="channel_broker.id")
    kind: str = Field(max_length=16)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="channel_campaign.id",
                                    index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())


class ShareEvent(SQLModel, table=True):
    """An open of the public page or the time spent on one of its pages. The visitor is
    a keyed hash of the random id their browser keeps, salted with the share: the same
    browser on two shares cannot be told to be one (no IP, no user agent is kept)."""

    __tablename__ = "channel_share_event"
    __table_args__ = (
        CheckConstraint("kind IN ('open', 'view')", name="ck_channel_share_event_kind"),
        CheckConstraint("seconds >= 0", name="ck_channel_share_event_seconds"),
        Index("ix_channel_share_event_share_visitor", "share_id", "visitor_key",
              "occurred_at"),
        Index("ix_channel_share_event_occurred_at", "occurred_at"),  # the retention job
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True,
                                                         autoincrement=True))
    share_id: int = Field(foreign_key="channel_share.id")
    visitor_key: str = Field(max_length=64)
    kind: str = Field(max_length=8)
    page: str = Field(max_length=32)
    seconds: int = Field(default=0)
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Lead(SQLModel, table=True):
    """线索: a visitor of a share who left a name and phone with their consent. Owned by
    the share's broker; one per broker, project and number (a second form keeps the
    first). `referral_id` once the broker turned it into a referral (转报备)."""

    __tablename__ = "channel_lead"
    __table_args__ = (
        UniqueConstraint("broker_id", "project_id", "phone_bidx",
                         name="uq_channel_lead_broker_project_phone"),
        Index("ix_channel_lead_project_bidx", "project_id", "phone_bidx"),
        Index("ix_channel_lead_project_created", "project_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="channel_share.id", index=True)
    broker_id: int = Field(foreign_key="channel_broker.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="channel_agency.id", index=True)
    project_id: int = Field(foreign_key="project.id")
    name_enc: str = Field(max_length=300, description="AES-GCM, context channel_lead.name")
    phone_enc: str = Field(max_length=200, description="AES-GCM, context channel_lead.phone")
    phone_bidx: str = Field(max_length=64)
    phone34_bidx: str = Field(max_length=64)
    phone_masked: str = Field(max_length=11)
    visitor_key: str = Field(max_length=64)
    consent_version: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    referral_id: int | None = Field(default=None, foreign_key="channel_referral.id")
    converted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
