"""SQLModel tables of the edge database.

They live in their own registry and metadata, apart from the cloud's tables: the schema is
built by `edge_agent.store.migrations` (PRAGMA user_version), never by create_all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, and_, or_
from sqlalchemy.orm import registry
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col

from shared.dbtypes import UTCDateTime, empty_list

edge_registry = registry()

FIRST_VISIT = "first_visit"
RETURN_VISIT = "return_visit"


def _utc(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


# A customer erased at the cloud on request (down-feed `erased`): their visits and
# follow-ups here keep a unique tombstone for a blind index and this mask, and no phone.
ERASED_PREFIX = "erased:"
ERASED_MASK = "已删除"


def is_erased(phone_bidx: str) -> bool:
    return phone_bidx.startswith(ERASED_PREFIX)


class EdgeModel(SQLModel, registry=edge_registry):
    """Base of the edge tables (separate metadata from the cloud's SQLModel tables)."""


class SyncState(EdgeModel, table=True):
    """One row: the up-stream seq counter, the cloud's ack, the down-feed cursor."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    next_seq: int = 1
    last_acked_seq: int = 0
    last_ack_at: datetime | None = _utc(nullable=True)
    down_cursor: int = 0
    down_synced_at: datetime | None = _utc(nullable=True)
    clock_skew_seconds: float | None = None
    key_fingerprint: str | None = Field(default=None, max_length=64)
    epoch: uuid.UUID | None = Field(
        default=None, description="this store's identity in the protocol (set by migration 6)")
    down_generation: str | None = Field(default=None, max_length=64)


class OutboxRow(EdgeModel, table=True):
    """An up-stream event: waiting for the cloud's ack (`acked_at` null), or acked and kept
    for the retention window in case the cloud is restored from an older backup. The
    payload is encrypted at rest."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_acked_at", "acked_at"),)

    seq: int = Field(primary_key=True)
    event_id: uuid.UUID = Field(unique=True)
    type: str = Field(max_length=64)
    occurred_at: datetime = _utc()
    payload_enc: str
    created_at: datetime = _utc()
    acked_at: datetime | None = _utc(nullable=True)


class RejectedEvent(EdgeModel, table=True):
    """An event the cloud acked as rejected: kept here (payload still encrypted) for review."""

    __tablename__ = "rejected_event"

    seq: int = Field(primary_key=True)
    event_id: uuid.UUID | None = None
    type: str | None = None
    reason: str = Field(max_length=200)
    payload_enc: str | None = None
    rejected_at: datetime = _utc()


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
    occurred_at: datetime = _utc()
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
    consent_accepted_at: datetime | None = _utc(nullable=True)
    consent_recorded_at: datetime | None = _utc(nullable=True)
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


class Consultant(EdgeModel, table=True):
    """The site's roster as the cloud feeds it (kind `consultant`): consultants, sales
    managers and sales directors, each with their roles. An active entry lets one sign in
    to the PWA; the rota and every pick of who receives take the consultants only
    (edge_agent.rota.queue), a call's answerer site staff only (shared.roster)."""

    __tablename__ = "consultant"

    id: int = Field(primary_key=True)
    name: str = Field(max_length=50)
    active: bool = True
    roles: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()


class Project(EdgeModel, table=True):
    __tablename__ = "project"

    id: int = Field(primary_key=True)
    name: str = Field(max_length=100)
    city: str | None = Field(default=None, max_length=50)
    active: bool = True
    updated_at: datetime = _utc()


class TokenRevocation(EdgeModel, table=True):
    """The cloud's revocation list (down-feed kind `revocation`): `session:{sid}` ends the
    edge tokens of one cloud session, `user:{id}` every token of the user issued at or
    before `revoked_at`."""

    __tablename__ = "token_revocation"

    key: str = Field(primary_key=True, max_length=128)
    user_id: int
    session_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=32)
    revoked_at: datetime = _utc()
    updated_at: datetime = _utc()


class StaffActivity(EdgeModel, table=True):
    """When each edge token was last used for a user action: the idle timeout."""

    __tablename__ = "staff_activity"

    token_id: str = Field(primary_key=True, max_length=64)
    user_id: int
    last_active_at: datetime = _utc()
    expires_at: datetime = _utc()


class CustomerCache(EdgeModel, table=True):
    """The cloud's view of a customer per project, keyed by the site-keyed phone blind index."""

    __tablename__ = "customer_cache"
    __table_args__ = (
        Index("ix_customer_cache_lookup", "project_id", "phone_bidx", unique=True),
        Index("ix_customer_cache_owner", "owner_id"),
    )

    key: str = Field(primary_key=True, max_length=128)
    project_id: int
    phone_bidx: str = Field(max_length=64)
    phone_masked: str | None = Field(default=None, max_length=11)
    owner_id: int | None = None
    owner_name: str | None = Field(default=None, max_length=50)
    visit_count: int = 0
    first_visit_at: datetime | None = _utc(nullable=True)
    last_visit_at: datetime | None = _utc(nullable=True)
    protection_until: datetime | None = _utc(nullable=True)
    last_effective_at: datetime | None = _utc(nullable=True)
    name_masked: str | None = Field(default=None, max_length=20)
    customer_ref: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _utc()
    # Schema v14 (customer 360): the cloud's sales stage (cloud.sales.stages), ownership
    # state and the deal's payment method; None from a cloud that does not state them.
    status: str | None = Field(default=None, max_length=20)
    ownership: str | None = Field(default=None, max_length=10)
    payment_method: str | None = Field(default=None, max_length=20)


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
    checked_in_at: datetime = _utc()
    checked_out_at: datetime | None = _utc(nullable=True)
    updated_at: datetime = _utc()
    # Away (schema v12): a make-up reason keeps `queue_pos` (补接), a drop reason moved it
    # to the tail; either way not the next to receive until back.
    away_reason: str | None = Field(default=None, max_length=20)
    away_since: datetime | None = _utc(nullable=True)
    skip_turns: int = Field(default=0, description="turns still to lose (a penalty)")


class RotaSuspension(EdgeModel, table=True):
    """A consultant barred from the rota until a day (a refusal's penalty)."""

    __tablename__ = "rota_suspension"

    id: int | None = Field(default=None, primary_key=True)
    consultant_id: int
    until_date: str = Field(max_length=10, description="last Asia/Shanghai day suspended")
    reason: str = Field(max_length=200)
    actor: str = Field(max_length=64)
    created_at: datetime = _utc()


class ReceptionSettings(EdgeModel, table=True):
    """A project's reception settings (shared.reception.ReceptionRules as JSON)."""

    __tablename__ = "reception_settings"

    project_id: int = Field(primary_key=True)
    rules: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_by: int
    updated_at: datetime = _utc()
    # The last change of the HQ console that altered the values here ({at, by, fields}),
    # so the manager learns theirs were replaced; cleared by the next change made here.
    cloud_change: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class RotaEvent(EdgeModel, table=True):
    """One change of the reception queue: who, what, why (append-only)."""

    __tablename__ = "rota_event"
    __table_args__ = (Index("ix_rota_event_duty_date", "duty_date", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    duty_date: str = Field(max_length=10)
    occurred_at: datetime = _utc()
    consultant_id: int
    action: str = Field(max_length=32, description="check_in | check_out | turn_consumed")
    actor: str = Field(max_length=64, description="the device or flow that made the change")
    reason: str = Field(max_length=200)
    visit_id: uuid.UUID | None = None
    position_before: int | None = None
    position_after: int | None = None
    away_reason: str | None = Field(default=None, max_length=20)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class FollowUp(EdgeModel, table=True):
    """A consultant's follow-up (跟进) written from the PWA, with its outbox event's seq.

    The id is made by the phone and is the request's idempotency key: a retry finds it.
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("seq", name="uq_follow_up_seq"),
        Index("ix_follow_up_visit_id", "visit_id"),
        Index("ix_follow_up_consultant", "consultant_id", "recorded_at"),
        Index("ix_follow_up_customer", "project_id", "phone_bidx", "occurred_at"),
    )

    id: uuid.UUID = Field(primary_key=True)
    visit_id: uuid.UUID | None = None
    project_id: int
    phone_bidx: str = Field(max_length=64)
    phone_masked: str = Field(max_length=11)
    consultant_id: int
    kind: str = Field(max_length=16, description="call | visit | wechat | meeting")
    reached: bool
    note_enc: str | None = None
    next_at: datetime | None = _utc(nullable=True)
    occurred_at: datetime = _utc()
    recorded_at: datetime = _utc()
    seq: int
    event_id: uuid.UUID


class IncomingCall(EdgeModel, table=True):
    """An incoming call (来电登记) with its outbox event's seq. The id is made by the
    kiosk or the phone and is the request's idempotency key."""

    __tablename__ = "incoming_call"
    __table_args__ = (
        UniqueConstraint("seq", name="uq_incoming_call_seq"),
        Index("ix_incoming_call_day", "call_date", "project_id"),
        Index("ix_incoming_call_customer", "project_id", "phone_bidx"),
    )

    id: uuid.UUID = Field(primary_key=True)
    project_id: int
    phone_enc: str
    phone_bidx: str = Field(max_length=64)
    phone_masked: str = Field(max_length=11)
    name_enc: str | None = None
    awareness: str | None = Field(default=None, max_length=20)
    consultant_id: int | None = None
    recorded_by: str = Field(max_length=64)
    occurred_at: datetime = _utc()
    call_date: str = Field(max_length=10, description="Asia/Shanghai day, ISO")
    seq: int
    event_id: uuid.UUID


class QrKey(EdgeModel, table=True):
    """A public key of the cloud's QR signing ring (down-feed `qr_key`)."""

    __tablename__ = "qr_key"

    kid: str = Field(primary_key=True, max_length=16)
    public_key: str = Field(max_length=64, description="Ed25519, raw, base64url")
    active: bool = True
    updated_at: datetime = _utc()


class ChannelRules(EdgeModel, table=True):
    """One rule version of a project (down-feed `channel_rules`, key project:version)."""

    __tablename__ = "channel_rules"

    key: str = Field(primary_key=True, max_length=32)
    project_id: int
    version: int
    effective_from: datetime = _utc()
    rules: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    active: bool = True
    updated_at: datetime = _utc()


class ReferralCache(EdgeModel, table=True):
    """A live referral of this site, masked (down-feed `referral`): no name, no number but
    the shown form and the site-keyed key of its 3+4 digits."""

    __tablename__ = "referral_cache"
    __table_args__ = (Index("ix_referral_cache_phone", "project_id", "phone_key"),)

    key: str = Field(primary_key=True, max_length=16)
    id: int
    project_id: int
    broker_id: int
    agency_id: int | None = None
    state: str = Field(max_length=16)
    reason_code: str = Field(max_length=40)
    phone_masked: str = Field(max_length=11)
    masked: bool = Field(default=False, description="referred with a masked number")
    phone_key: str | None = Field(default=None, max_length=32)
    rule_version: int
    created_at: datetime = _utc()
    protection_until: datetime | None = _utc(nullable=True)
    active: bool = True
    updated_at: datetime = _utc()
    # Masked, for the receptionist picking the broker by hand (schema v11).
    broker_name: str | None = Field(default=None, max_length=20)
    broker_phone_masked: str | None = Field(default=None, max_length=11)
    agency_name: str | None = Field(default=None, max_length=100)

    @classmethod
    def live(cls, now: datetime) -> ColumnElement[bool]:
        """Live at `now`: the cloud sends a referral whose window ran out as it was, not
        again as inactive (ADR 0058), so its `protection_until` is read here."""
        return and_(col(cls.active).is_(True), or_(
            col(cls.protection_until).is_(None), col(cls.protection_until) > now))

    def is_live(self, now: datetime) -> bool:
        return self.active and (self.protection_until is None or self.protection_until > now)


class QrNonce(EdgeModel, table=True):
    """A QR code used here: its nonce refuses a second use (kept through resyncs)."""

    __tablename__ = "qr_nonce"

    nonce: str = Field(primary_key=True, max_length=43)
    referral_id: int
    broker_id: int
    visit_id: uuid.UUID
    used_at: datetime = _utc()
    expires_at: datetime = _utc()
