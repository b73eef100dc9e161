"""Reception at the kiosk: the visit, and the day's rota with its rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field

from edge_agent.store.models.base import EdgeModel, utc_field

FIRST_VISIT = "first_visit"
RETURN_VISIT = "return_visit"


class Visit(EdgeModel, table=True):
    """A walk-in registered at the kiosk; one per customer (project + phone) per Shanghai day."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_visit_idempotency_key"),
        UniqueConstraint("seq", name="uq_visit_seq"),
        UniqueConstraint("project_id", "phone_bidx", "visit_date", name="uq_visit_customer_day"),
        Index("ix_visit_visit_date", "visit_date"),
        Index("ix_visit_owner", "owner_id"),
    )

    id: uuid.UUID = Field(primary_key=True)
    project_id: int
    phone_enc: str
    phone_bidx: str = Field(max_length=64)
    phone_masked: str = Field(max_length=11)
    name_enc: str | None = None
    party_size: int
    intent_enc: str | None = None
    source: str = Field(max_length=32)
    consultant_id: int | None = None
    occurred_at: datetime = utc_field()
    visit_date: str = Field(max_length=10, description="Asia/Shanghai calendar day, ISO")
    classification: str = Field(max_length=16)
    provisional: bool
    visit_number: int = Field(description="this customer's visit count including this one")
    owner_id: int | None = None
    owner_name: str | None = Field(default=None, max_length=50)
    idempotency_key: str = Field(max_length=128)
    seq: int
    event_id: uuid.UUID
    # The visitor's consent (schema v9; None on visits registered before it).
    consent_notice_version: str | None = Field(default=None, max_length=32)
    consent_method: str | None = Field(default=None, max_length=16)
    consent_accepted_at: datetime | None = utc_field(nullable=True)
    consent_recorded_at: datetime | None = utc_field(nullable=True)
    consent_tablet: str | None = Field(default=None, max_length=64)
    # A guided visit (扫码带看, schema v10): whose QR code was scanned; and the appliance's
    # provisional answer shown at registration (首访/复访, owner, broker protection).
    broker_id: int | None = None
    referral_id: int | None = None
    attribution: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # How the broker was named (schema v11): `qr` (a signed code) or `manual` (picked by
    # the receptionist, weaker evidence: ADR 0030).
    guide_method: str | None = Field(default=None, max_length=8)
    # Reception complete (schema v12, ADR 0033): the profile (shared.reception_events.
    # VisitProfile as JSON, its latest revision), whether the reception used a rota
    # turn, a stand-in's absent owner and share, the last day of a forgotten-name claim,
    # and the number's 号码归属地.
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    profile_revision: int = 0
    consumed_turn: bool | None = None
    stand_in_for: int | None = None
    stand_in_share: int | None = None
    claimable_until: str | None = Field(default=None, max_length=10)
    phone_region: str | None = Field(default=None, max_length=40)


class RotaDuty(EdgeModel, table=True):
    """A consultant on the reception rota (轮岗) of one Asia/Shanghai day.

    The queue is the on-duty rows ordered by `queue_pos`; checking in or receiving a new
    customer gives the row the day's next (highest) position, i.e. the tail.
    """

    __tablename__ = "rota_duty"

    duty_date: str = Field(primary_key=True, max_length=10, description="Asia/Shanghai day")
    consultant_id: int = Field(primary_key=True)
    on_duty: bool
    queue_pos: int
    checked_in_at: datetime = utc_field()
    checked_out_at: datetime | None = utc_field(nullable=True)
    updated_at: datetime = utc_field()
    # Away (schema v12): a make-up reason keeps `queue_pos` (补接), a drop reason moved it
    # to the tail; either way not the next to receive until back.
    away_reason: str | None = Field(default=None, max_length=20)
    away_since: datetime | None = utc_field(nullable=True)
    skip_turns: int = Field(default=0, description="turns still to lose (a penalty)")


class RotaSuspension(EdgeModel, table=True):
    """A consultant barred from the rota until a day (a refusal's penalty)."""

    __tablename__ = "rota_suspension"

    id: int | None = Field(default=None, primary_key=True)
    consultant_id: int
    until_date: str = Field(max_length=10, description="last Asia/Shanghai day suspended")
    reason: str = Field(max_length=200)
    actor: str = Field(max_length=64)
    created_at: datetime = utc_field()


class ReceptionSettings(EdgeModel, table=True):
    """A project's reception settings (shared.reception.ReceptionRules as JSON)."""

    __tablename__ = "reception_settings"

    project_id: int = Field(primary_key=True)
    rules: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_by: int
    updated_at: datetime = utc_field()
    # The last change of the HQ console that altered the values here ({at, by, fields}),
    # so the manager learns theirs were replaced; cleared by the next change made here.
    cloud_change: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class RotaEvent(EdgeModel, table=True):
    """One change of the reception queue: who, what, why (append-only)."""

    __tablename__ = "rota_event"
    __table_args__ = (Index("ix_rota_event_duty_date", "duty_date", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    duty_date: str = Field(max_length=10)
    occurred_at: datetime = utc_field()
    consultant_id: int
    action: str = Field(max_length=32, description="check_in | check_out | turn_consumed")
    actor: str = Field(max_length=64, description="the device or flow that made the change")
    reason: str = Field(max_length=200)
    visit_id: uuid.UUID | None = None
    position_before: int | None = None
    position_after: int | None = None
    away_reason: str | None = Field(default=None, max_length=20)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
