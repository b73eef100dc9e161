"""The cloud end of edge sync: per-site link state, applied events, held events, the
rejection record and the down-stream change feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_dict
from shared.timeutil import utcnow


class SiteLink(SQLModel, table=True):
    """One row per site; applying a site's events locks it (SELECT … FOR UPDATE)."""

    __tablename__ = "site_link"

    site_id: str = Field(primary_key=True, foreign_key="site.id", max_length=32)
    key_enc: str = Field(max_length=200, description="site HMAC key, AES-GCM")
    mqtt_username: str = Field(max_length=64, unique=True)
    mqtt_password_hash: str = Field(max_length=200, description="mosquitto_passwd $7$ line")
    last_applied_seq: int = Field(default=0, sa_type=BigInteger)
    highest_seen_seq: int = Field(default=0, sa_type=BigInteger)
    gap_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    gap_alarm: bool = False
    last_event_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    online: bool = False
    status_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    edge_backlog: int = 0
    edge_last_acked_seq: int = Field(default=0, sa_type=BigInteger)
    edge_oldest_unacked_at: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True)
    )
    clock_skew_seconds: float | None = None
    clock_skew_alarm: bool = False
    agent_version: str = Field(default="", max_length=40)
    down_cursor_acked: int = Field(default=0, sa_type=BigInteger)
    feed_floor: int = Field(default=0, sa_type=BigInteger, description="offsets ≤ are pruned")
    snapshot_from: int = Field(default=0, sa_type=BigInteger, description="latest resync start")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    # --- protocol 2: the appliance's identity over time (see docs/sync-protocol.md §8) ---
    epoch: str | None = Field(default=None, max_length=36, description="the store we apply")
    reenrol_allowed: bool = Field(default=False, description="adopt the next new epoch")
    refused_epoch: str | None = Field(default=None, max_length=36)
    epoch_refused_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    instance: str | None = Field(default=None, max_length=36, description="the agent we hear")
    previous_instance: str | None = Field(default=None, max_length=36)
    instance_switched_at: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True))
    instance_since: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True),
        description="the earliest send time, by the appliance's clock, heard from `instance`")
    instance_offset: float | None = Field(
        default=None, description="least (received − sent) seen from `instance`, seconds")
    previous_offset: float | None = Field(
        default=None, description="the same for `previous_instance`")
    twin_alarm: bool = False
    refused_instance: str | None = Field(default=None, max_length=36)
    conflict_alarm: bool = Field(default=False, description="a seq resent with other content")
    cloud_behind_alarm: bool = Field(
        default=False, description="the edge holds acks above what we have: a restore?")
    stalled: bool = Field(default=False, description="a hole open past the alarm threshold")
    edge_link: str = Field(default="ok", max_length=20, description="the agent's own view")
    edge_storage_full: bool = False
    edge_next_seq: int = Field(default=1, sa_type=BigInteger)
    skew_sampled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    feed_generation: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=64,
                                 description="changes when the database is restored")


class SyncEvent(SQLModel, table=True):
    """Every seq a site's store (epoch) has consumed, once: the idempotency record of the
    up-stream, with the hash of the event's content to tell a resend from a conflict."""

    __tablename__ = "sync_event"
    __table_args__ = (
        UniqueConstraint("site_id", "epoch", "seq", name="uq_sync_event_site_epoch_seq"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    epoch: str = Field(max_length=36)
    seq: int = Field(sa_type=BigInteger)
    content_sha256: str | None = Field(default=None, max_length=64)
    event_id: str = Field(max_length=36, unique=True)
    type: str = Field(max_length=64)
    outcome: str = Field(max_length=20, description="applied | merged | rejected")
    detail: dict[str, Any] = Field(default_factory=empty_dict,
                                   sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=utc_column())
    applied_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class SyncPending(SQLModel, table=True):
    """Events that arrived above a hole; they wait for the missing seqs."""

    __tablename__ = "sync_pending"

    site_id: str = Field(primary_key=True, foreign_key="site.id", max_length=32)
    epoch: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True, sa_type=BigInteger)
    envelope: str = Field(description="the signed envelope as received")
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class SyncRejection(SQLModel, table=True):
    """A message refused before it touched any data: forged, misrouted, malformed."""

    __tablename__ = "sync_rejection"
    __table_args__ = (Index("ix_sync_rejection_received_at", "received_at"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    topic: str = Field(max_length=200)
    topic_site_id: str | None = Field(default=None, max_length=64)
    claimed_site_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=40)
    message: str = Field(default="", max_length=500)
    seq: int | None = Field(default=None, sa_type=BigInteger)
    event_id: str | None = Field(default=None, max_length=36)
    payload_sha256: str = Field(max_length=64)
    payload_bytes: int
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class DownFeed(SQLModel, table=True):
    """Cloud → edge change feed; the offset is the edge's cursor."""

    __tablename__ = "down_feed"
    # By key: the latest item of each key of a kind (derived kinds' comparison), and an
    # erasure's delete of one customer's items.
    __table_args__ = (Index("ix_down_feed_site_offset", "site_id", "offset"),
                      Index("ix_down_feed_site_kind_key", "site_id", "kind", "key", "offset"))

    offset: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    kind: str = Field(max_length=20)
    key: str = Field(max_length=128)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
