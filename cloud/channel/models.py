"""Channel (渠道) tables: agencies, brokers, the projects' rule versions and referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Double, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cloud.catalog.models import PLACE_SOURCES, utc_column
from shared.dbtypes import empty_list
from shared.timeutil import utcnow

AGENCY_STATUSES = ("invited", "pending", "active", "frozen")
BROKER_STATUSES = ("pending", "active", "frozen")
REFERRAL_STATES = ("pending", "confirmed", "invalid", "expired")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Agency(SQLModel, table=True):
    """渠道公司. Invited by a channel manager with a code; the first member who joins with
    it makes the agency's application (pending), which the manager approves (active)."""

    __tablename__ = "channel_agency"
    __table_args__ = (
        UniqueConstraint("invite_code", name="uq_channel_agency_invite_code"),
        CheckConstraint(_in("status", AGENCY_STATUSES), name="ck_channel_agency_status"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5",
                        name="ck_channel_agency_rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    status: str = Field(default="invited", max_length=16)
    rating: int | None = Field(default=None, description="1–5 stars from the channel manager")
    # 渠道团队: the rule set's team overrides apply to this agency's referrals.
    team: str | None = Field(default=None, max_length=64)
    invite_code: str = Field(max_length=16)
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Broker(SQLModel, table=True):
    """经纪人: one user account's channel identity. agency_id None: an individual
    referrer (全民营销, kind `referrer`)."""

    __tablename__ = "channel_broker"
    __table_args__ = (
        UniqueConstraint("user_id", name="uq_channel_broker_user"),
        UniqueConstraint("invite_code", name="uq_channel_broker_invite_code"),
        CheckConstraint(_in("status", BROKER_STATUSES), name="ck_channel_broker_status"),
        CheckConstraint("kind IN ('agency', 'referrer')", name="ck_channel_broker_kind"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5",
                        name="ck_channel_broker_rating"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    agency_id: int | None = Field(default=None, foreign_key="channel_agency.id", index=True)
    kind: str = Field(max_length=16)
    status: str = Field(default="pending", max_length=16)
    rating: int | None = None
    phone_enc: str = Field(max_length=200, description="AES-GCM, context channel_broker.phone")
    phone_bidx: str = Field(max_length=64, index=True)
    phone_masked: str = Field(max_length=11)
    # The personal invite (全民营销): made on first use; the broker who invited this one.
    invite_code: str | None = Field(default=None, max_length=16)
    invited_by: int | None = Field(default=None, foreign_key="channel_broker.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class RuleVersion(SQLModel, table=True):
    """One version of a project's channel rules (shared.attribution.RuleSet as JSON)."""

    __tablename__ = "channel_rule_version"
    __table_args__ = (
        UniqueConstraint("project_id", "version", name="uq_channel_rule_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    version: int
    effective_from: datetime = Field(sa_column=utc_column())
    rules: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Referral(SQLModel, table=True):
    """报备, with the engine's decision at submission.

    A full number is stored encrypted with its blind index; a masked one is stored as
    given (it is already masked). Both carry the blind indexes of the digits a mask may
    show — the 3+4 key and the first seven — which find the referrals and customers it
    may collide with (疑似重号).
    """

    __tablename__ = "channel_referral"
    __table_args__ = (
        UniqueConstraint("broker_id", "idempotency_key", name="uq_channel_referral_idem"),
        CheckConstraint(_in("state", REFERRAL_STATES), name="ck_channel_referral_state"),
        CheckConstraint("customer_group IN ('individual', 'corporate')",
                        name="ck_channel_referral_group"),
        Index("ix_channel_referral_project_bidx", "project_id", "phone_bidx"),
        Index("ix_channel_referral_project_34", "project_id", "phone34_bidx"),
        Index("ix_channel_referral_project_7", "project_id", "phone7_bidx"),
        # The masked referrals a full number may complete, without the full ones.
        Index("ix_channel_referral_masked_34", "project_id", "phone34_bidx",
              postgresql_where=text("phone_bidx IS NULL"),
              sqlite_where=text("phone_bidx IS NULL")),
        Index("ix_channel_referral_masked_7", "project_id", "phone7_bidx",
              postgresql_where=text("phone_bidx IS NULL"),
              sqlite_where=text("phone_bidx IS NULL")),
        # A broker's list, newest first; the live-referral count.
        Index("ix_channel_referral_broker_created", "broker_id", "created_at"),
        # 渠道业绩 / 多维查询: a project's referrals over a date range (migration 0023).
        Index("ix_channel_referral_project_created", "project_id", "created_at"),
        # The referral risk scan: every project's referrals made since its last run.
        Index("ix_channel_referral_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    broker_id: int = Field(foreign_key="channel_broker.id")
    agency_id: int | None = Field(default=None, foreign_key="channel_agency.id", index=True)
    customer_group: str = Field(default="individual", max_length=16)
    name_enc: str = Field(max_length=300, description="AES-GCM, context channel_referral.name")
    phone_enc: str | None = Field(default=None, max_length=200,
                                  description="AES-GCM of the full number; None: masked")
    phone_bidx: str | None = Field(default=None, max_length=64)
    phone_given: str | None = Field(default=None, max_length=11,
                                    description="the masked form as given; None: full")
    phone_masked: str = Field(max_length=11, description="as shown: 138****5678")
    phone34_bidx: str | None = Field(default=None, max_length=64)
    phone7_bidx: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=16)
    reason_code: str = Field(max_length=40)
    evidence: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    rule_version: int
    # The broker's live referrals at submission: the cap spans customers, and a
    # re-decision must judge this referral as it was judged then.
    broker_live_referrals: int = 0
    team: str | None = Field(default=None, max_length=64, description="the agency's team then")
    protection_until: datetime | None = Field(default=None,
                                              sa_column=utc_column(nullable=True))
    idempotency_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    decided_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ReferralReview(SQLModel, table=True):
    """The developer's review of a referral its project's rules hold for one (报备审核)."""

    __tablename__ = "channel_referral_review"
    __table_args__ = (
        UniqueConstraint("referral_id", name="uq_channel_referral_review_referral"),
    )

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="channel_referral.id")
    approved: bool
    comment: str = Field(max_length=200)
    reviewer_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Cooperation(SQLModel, table=True):
    """An agency that cooperates on a project (合作渠道). A project with none is open to
    every active agency; once it lists some, only those may refer to it."""

    __tablename__ = "channel_cooperation"
    __table_args__ = (
        UniqueConstraint("project_id", "agency_id", name="uq_channel_cooperation"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    agency_id: int = Field(foreign_key="channel_agency.id", index=True)
    added_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


QR_SCAN_OUTCOMES = ("accepted", "refused", "replayed")
# How the broker of a guided visit was named: a signed code, or picked by the receptionist.
GUIDE_METHODS = ("qr", "manual")


class QrScan(SQLModel, table=True):
    """One 扫码带看 attempt at an appliance, as its event reached the cloud: accepted (the
    guided visit), refused there (forged, expired, replayed on that appliance…) or
    replayed across appliances (the nonce was already used elsewhere: a risk signal).

    `accepted_nonce` holds the nonce of accepted scans only, so its unique constraint is
    the cloud-wide single use whichever appliance applies first. The edge's provisional
    answer and the cloud's decision are both kept: their difference is shown.
    """

    __tablename__ = "channel_qr_scan"
    __table_args__ = (
        UniqueConstraint("event_id", name="uq_channel_qr_scan_event"),
        UniqueConstraint("accepted_nonce", name="uq_channel_qr_scan_nonce"),
        CheckConstraint(_in("outcome", QR_SCAN_OUTCOMES), name="ck_channel_qr_scan_outcome"),
        Index("ix_channel_qr_scan_referral", "referral_id", "scanned_at"),
        Index("ix_channel_qr_scan_nonce", "nonce"),
        # 带看记录: newest first (migration 0025).
        Index("ix_channel_qr_scan_scanned", "scanned_at", "id"),
        CheckConstraint(_in("method", GUIDE_METHODS), name="ck_channel_qr_scan_method"),
        CheckConstraint(_in("position_source", PLACE_SOURCES),
                        name="ck_channel_qr_scan_position_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, description="the edge event's id")
    site_id: str = Field(foreign_key="site.id", max_length=32, index=True)
    project_id: int = Field(foreign_key="project.id")
    # Unverified names on refused scans: a forged code may name anything, so no keys.
    referral_id: int | None = None
    broker_id: int | None = None
    key_id: str | None = Field(default=None, max_length=16)
    nonce: str | None = Field(default=None, max_length=43)
    accepted_nonce: str | None = Field(default=None, max_length=43)
    outcome: str = Field(max_length=16)
    reason_code: str = Field(max_length=40, description="qr_* refusal code, or ok")
    visit_id: str | None = Field(default=None, max_length=36)
    scanned_at: datetime = Field(sa_column=utc_column(), description="edge time, corrected")
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    edge_state: str | None = Field(default=None, max_length=16,
                                   description="the appliance's provisional referral state")
    edge_reason: str | None = Field(default=None, max_length=40)
    cloud_state: str | None = Field(default=None, max_length=16,
                                    description="the cloud's decision after the scan")
    cloud_reason: str | None = Field(default=None, max_length=40)
    method: str = Field(default="qr", max_length=8, sa_column_kwargs={"server_default": "qr"},
                        description="qr 扫码 / manual 前台手工指定 (migration 0025)")
    # Where the guided visit was confirmed (migration 0044; the far-signing check compares
    # the contract's signing place with it): the kiosk's own position when it sent one,
    # else its site's configured position (`position_source`, migration 0048).
    lat: float | None = Field(default=None, sa_type=Double)
    lng: float | None = Field(default=None, sa_type=Double)
    position_source: str | None = Field(default=None, max_length=8,
                                        description="device 设备定位 / site 案场位置")
