"""The camera table of the edge store (schema step `V13_CAMERAS` in
edge_agent.store.migrations.cameras)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from edge_agent.store.models.base import EdgeModel, utc_field
from shared.dbtypes import empty_list


class Camera(EdgeModel, table=True):
    __tablename__ = "camera"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    identity: str = Field(max_length=210)
    mac: str | None = Field(default=None, max_length=17)
    serial: str | None = Field(default=None, max_length=64)
    endpoint: str | None = Field(default=None, max_length=200)
    brand: str = Field(max_length=32)
    manufacturer: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=64)
    firmware: str | None = Field(default=None, max_length=64)
    host: str = Field(max_length=255)
    onvif_port: int
    username: str | None = Field(default=None, max_length=64)
    password_enc: str | None = None
    profiles: list[dict[str, Any]] = Field(
        default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    name: str | None = Field(default=None, max_length=40)
    status: str = Field(default="discovered", max_length=16)
    onvif_state: str = Field(default="no_credentials", max_length=16)
    last_error: str | None = Field(default=None, max_length=200)
    discovered_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    confirmed_at: datetime | None = utc_field(nullable=True)
    updated_at: datetime = utc_field()
    sample_fps: float = 2.0  # frames a second the reader hands on (store v15)
    capture_profile: str | None = Field(default=None, max_length=64)
