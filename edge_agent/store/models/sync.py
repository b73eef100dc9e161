"""The sync protocol's tables: its state, the up-stream outbox, the events the cloud
rejected."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from edge_agent.store.models.base import EdgeModel, utc_field


class SyncState(EdgeModel, table=True):
    """One row: the up-stream seq counter, the cloud's ack, the down-feed cursor."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    next_seq: int = 1
    last_acked_seq: int = 0
    last_ack_at: datetime | None = utc_field(nullable=True)
    down_cursor: int = 0
    down_synced_at: datetime | None = utc_field(nullable=True)
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
    occurred_at: datetime = utc_field()
    payload_enc: str
    created_at: datetime = utc_field()
    acked_at: datetime | None = utc_field(nullable=True)


class RejectedEvent(EdgeModel, table=True):
    """An event the cloud acked as rejected: kept here (payload still encrypted) for review."""

    __tablename__ = "rejected_event"

    seq: int = Field(primary_key=True)
    event_id: uuid.UUID | None = None
    type: str | None = None
    reason: str = Field(max_length=200)
    payload_enc: str | None = None
    rejected_at: datetime = utc_field()
