"""Customers and visits — the minimum of the sales domain the walking skeleton needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Date, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import as_utc, utcnow

# A customer erased on request (cloud.privacy): the phone's blind indexes become a unique
# tombstone with this prefix and the mask this text (both ends use the same).
ERASED_PREFIX = "erased:"
ERASED_MASK = "已删除"


def is_erased(phone_bidx: str) -> bool:
    return phone_bidx.startswith(ERASED_PREFIX)


def is_later_contact(at: datetime, last: datetime | None) -> bool:
    """An effective contact at `at` restarts the 7-day follow-up clock (from `last`)."""
    return last is None or as_utc(at) > as_utc(last)


class Customer(SQLModel, table=True):
    """A person interested in one project; the normalised phone is the key per project."""

    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("project_id", "phone_bidx", name="uq_customer_project_phone"),
        # The ownership lists (the pool, 逾期, 无效) of a project (migration 0029).
        Index("ix_customer_project_ownership", "project_id", "ownership"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    phone_enc: str = Field(max_length=200, description="AES-GCM, context customer.phone")
    phone_bidx: str = Field(max_length=64, index=True)
    phone34_bidx: str = Field(max_length=64, index=True, description="index of the 3+4 form")
    phone_masked: str = Field(max_length=11)
    name_enc: str | None = Field(default=None, max_length=300)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    # The sales stage (cloud.sales.stages), driven by deals from 认筹 on.
    status: str = Field(default="visited", max_length=20)
    visit_count: int = 0
    first_visit_at: datetime = Field(sa_column=utc_column())
    last_visit_at: datetime = Field(sa_column=utc_column())
    protection_until: datetime = Field(sa_column=utc_column())
    last_effective_at: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True),
        description="the last effective contact: a visit or a reached follow-up")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Ownership (migration 0029, cloud.sales.ownership): owned | overdue | public | invalid.
    ownership: str = Field(default="owned", max_length=10)
    owned_since: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True),
        description="assignment to the owner: the follow-up clock starts no earlier")
    previous_owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    lapsed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    warned_for: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True),
        description="the lapse time the owner was last warned of")
    # The payment method of the customer's live deal document (shared.payment; migration
    # 0038): kept by cloud.deals, stated in the down-feed for the phone's filter.
    payment_method: str | None = Field(default=None, max_length=16)

    def contacted(self, at: datetime) -> None:
        """An effective contact at `at`: the 7-day follow-up clock restarts from it."""
        if is_later_contact(at, self.last_effective_at):
            self.last_effective_at = at


class Visit(SQLModel, table=True):
    """One group's visit. Its id is the edge's visit_id, so a replayed event finds it."""

    __tablename__ = "visit"
    __table_args__ = (
        # One customer, one day (Asia/Shanghai) = one visit for the statistics.
        UniqueConstraint("customer_id", "visit_date", name="uq_visit_customer_day"),
        # The keyset walks of the visit list (newest first, id breaking ties): everything
        # for HQ, by site for everyone else.
        Index("ix_visit_occurred_id", "occurred_at", "id"),
        Index("ix_visit_site_occurred_id", "site_id", "occurred_at", "id"),
        # The guided visit of a referral: who received a referred customer (migration 0023).
        Index("ix_visit_referral", "referral_id"),
        CheckConstraint(
            "consent_method IS NULL OR consent_method IN ('kiosk_screen', 'staff_confirmed')",
            name="ck_visit_consent_method"),
    )

    id: str = Field(primary_key=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    project_id: int = Field(foreign_key="project.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    consultant_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    party_size: int
    intent_enc: str | None = Field(default=None, max_length=1200,
                                   description="AES-GCM, context visit.intent")
    source: str = Field(max_length=30)
    is_first_visit: bool
    visit_date: date = Field(sa_column=Column(Date, nullable=False, index=True))
    occurred_at: datetime = Field(sa_column=utc_column())
    edge_occurred_at: datetime = Field(sa_column=utc_column(), description="edge clock, raw")
    time_corrected: bool = False
    event_seq: int
    # The visitor's consent as the edge recorded it (migration 0011). None: the visit came
    # from an agent older than edge schema v9, which recorded none.
    consent_notice_version: str | None = Field(default=None, max_length=32)
    consent_method: str | None = Field(default=None, max_length=16,
                                       description="kiosk_screen | staff_confirmed")
    consent_accepted_at: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True), description="tablet clock, a hint")
    consent_recorded_at: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True), description="edge clock, raw")
    consent_tablet: str | None = Field(default=None, max_length=64)
    # A guided visit (渠道带看, migration 0017): the broker and referral whose QR code was
    # scanned at the kiosk; None for a natural visit.
    broker_id: int | None = Field(default=None, foreign_key="channel_broker.id", index=True)
    referral_id: int | None = Field(default=None, foreign_key="channel_referral.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # Migration 0025: how the broker was named (qr / manual: picked by the receptionist),
    # and the appliance's provisional answer at registration (shared.events.
    # ProvisionalAnswer), shown beside the cloud's.
    guide_method: str | None = Field(default=None, max_length=8)
    edge_attribution: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True)))  # SQL NULL, not JSON null


class VisitDayCount(SQLModel, table=True):
    """How many visits each site, project, Beijing day and first/return kind has: the
    visit list's exact total is a sum over these few rows instead of a count of a million
    visits (issue #24). Kept by database triggers on visit (migration 0032), so every
    writer — the sync apply, a correction, an erasure, a bulk load — keeps it right."""

    __tablename__ = "visit_day_count"

    site_id: str = Field(primary_key=True, max_length=32)
    project_id: int = Field(primary_key=True)
    visit_date: date = Field(sa_column=Column(Date, primary_key=True))
    is_first_visit: bool = Field(primary_key=True)
    visits: int


class FollowUp(SQLModel, table=True):
    """A consultant's follow-up (跟进). Its id is the phone's UUID — the idempotency key —
    so the same follow-up arriving through edge sync and through the cloud route is one
    row whichever comes first."""

    __tablename__ = "follow_up"
    __table_args__ = (
        CheckConstraint("kind IN ('call', 'visit', 'wechat', 'meeting')",
                        name="ck_follow_up_kind"),
        # A customer's follow-ups, newest first.
        Index("ix_follow_up_customer_occurred_id", "customer_id", "occurred_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", index=True, max_length=32)
    project_id: int = Field(foreign_key="project.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    visit_id: str | None = Field(default=None, foreign_key="visit.id", index=True,
                                 max_length=36)
    consultant_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=16, description="call | visit | wechat | meeting")
    reached: bool = Field(description="the customer was actually reached")
    effective: bool = Field(description="有效跟进: reached, or a visit")
    note_enc: str | None = Field(default=None, max_length=2800,
                                 description="AES-GCM, context follow_up.note; None: no note")
    next_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    occurred_at: datetime = Field(sa_column=utc_column(index=True))
    recorded_via: str = Field(max_length=10, description="edge | cloud: the path that won")
    event_seq: int | None = Field(default=None, description="the edge event, when via edge")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
