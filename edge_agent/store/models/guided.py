"""Guided visits (带看): the cloud's QR keys, channel rules and live referrals, and the QR
codes used here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, col

from edge_agent.store.models.base import EdgeModel, utc_field


class QrKey(EdgeModel, table=True):
    """A public key of the cloud's QR signing ring (down-feed `qr_key`)."""

    __tablename__ = "qr_key"

    kid: str = Field(primary_key=True, max_length=16)
    public_key: str = Field(max_length=64, description="Ed25519, raw, base64url")
    active: bool = True
    updated_at: datetime = utc_field()


class ChannelRules(EdgeModel, table=True):
    """One rule version of a project (down-feed `channel_rules`, key project:version)."""

    __tablename__ = "channel_rules"

    key: str = Field(primary_key=True, max_length=32)
    project_id: int
    version: int
    effective_from: datetime = utc_field()
    rules: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    active: bool = True
    updated_at: datetime = utc_field()


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
    created_at: datetime = utc_field()
    protection_until: datetime | None = utc_field(nullable=True)
    active: bool = True
    updated_at: datetime = utc_field()
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
    used_at: datetime = utc_field()
    expires_at: datetime = utc_field()
