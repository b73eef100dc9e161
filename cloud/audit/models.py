"""The audit log: append-only, each row hash-chained to the one before it in its shard
(one of several independent chains, ADR 0059)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, SmallInteger, text
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_dict
from shared.timeutil import utcnow

GENESIS_HASH = "0" * 64

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the embedded demo gets one.
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        # Two rows naming one parent are a fork: refused even if a lock were ever missed.
        # Unique across shards too: every shard starts from a genesis of its own.
        Index("uq_audit_log_prev_hash", "prev_hash", unique=True),
        # A shard's parent (its newest row) and the verifier's walk along one shard.
        Index("ix_audit_log_shard_id", "shard", "id"),
        # Look-ups of numbers the office did not know, by number (risk check
        # searched_before_referral; migration 0026, PostgreSQL only).
        *(Index(f"ix_audit_log_unknown_{name}", text(f"(detail ->> '{key}')"),
                postgresql_where=text("object_type = 'customer' AND object_id = ''"))
          for name, key in (("bidx", "phone_bidx"), ("mask", "phone_masked"))),
    )

    id: int | None = Field(
        default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True)
    )
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    actor_id: int | None = Field(default=None, description="app_user.id; no FK: audit outlives")
    actor: str = Field(default="", max_length=64, description="username, 'cli' or 'site:<id>'")
    ip: str | None = Field(default=None, max_length=45)
    action: str = Field(max_length=64, description="e.g. auth.login, user.create")
    object_type: str = Field(default="", max_length=32)
    object_id: str = Field(default="", max_length=64)
    result: str = Field(default="success", max_length=16, description="success | failure | denied")
    detail: dict[str, Any] = Field(
        default_factory=empty_dict, sa_column=Column(JSON, nullable=False),
        description="plain JSON, not JSONB: the stored text must read back exactly as hashed",
    )
    shard: int = Field(
        default=0, sa_column=Column(SmallInteger, nullable=False, server_default=text("0")),
        description="which hash chain the row belongs to; rows from before migration 0047: 0")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
