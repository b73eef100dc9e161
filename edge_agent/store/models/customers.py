"""Customers: the cloud's view of each, and the follow-ups and calls recorded here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from edge_agent.store.models.base import EdgeModel, utc_field

# A customer erased at the cloud on request (down-feed `erased`): their visits and
# follow-ups here keep a unique tombstone for a blind index and this mask, and no phone.
ERASED_PREFIX = "erased:"
ERASED_MASK = "已删除"


def is_erased(phone_bidx: str) -> bool:
    return phone_bidx.startswith(ERASED_PREFIX)


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
    first_visit_at: datetime | None = utc_field(nullable=True)
    last_visit_at: datetime | None = utc_field(nullable=True)
    protection_until: datetime | None = utc_field(nullable=True)
    last_effective_at: datetime | None = utc_field(nullable=True)
    name_masked: str | None = Field(default=None, max_length=20)
    customer_ref: str | None = Field(default=None, max_length=64)
    updated_at: datetime = utc_field()
    # Schema v14 (customer 360): the cloud's sales stage (cloud.sales.stages), ownership
    # state and the deal's payment method; None from a cloud that does not state them.
    status: str | None = Field(default=None, max_length=20)
    ownership: str | None = Field(default=None, max_length=10)
    payment_method: str | None = Field(default=None, max_length=20)


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
    next_at: datetime | None = utc_field(nullable=True)
    occurred_at: datetime = utc_field()
    recorded_at: datetime = utc_field()
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
    occurred_at: datetime = utc_field()
    call_date: str = Field(max_length=10, description="Asia/Shanghai day, ISO")
    seq: int
    event_id: uuid.UUID
