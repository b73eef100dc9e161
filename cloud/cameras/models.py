"""A site's camera inventory, kept from the appliance's `camera.*` events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column


class SiteCamera(SQLModel, table=True):
    """One camera of one site: its public record (never credentials), the last the
    appliance sent."""

    __tablename__ = "site_camera"
    __table_args__ = (UniqueConstraint("site_id", "camera_id", name="uq_site_camera"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", max_length=32, index=True)
    camera_id: str = Field(max_length=36, description="the appliance's id of the camera")
    identity: str = Field(max_length=210)
    mac: str | None = Field(default=None, max_length=17)
    serial: str | None = Field(default=None, max_length=64)
    brand: str = Field(max_length=32)
    manufacturer: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=64)
    firmware: str | None = Field(default=None, max_length=64)
    host: str = Field(max_length=255)
    onvif_port: int
    name: str | None = Field(default=None, max_length=40)
    status: str = Field(max_length=16)
    onvif_state: str = Field(max_length=16)
    last_error: str | None = Field(default=None, max_length=200)
    has_credentials: bool
    profiles: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    discovered_at: datetime = Field(sa_column=utc_column())
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reported_at: datetime = Field(sa_column=utc_column(),
                                  description="when the appliance recorded this state")
    # Capture health (`camera.health`, migration 0035): none until the reader reports.
    capture_state: str | None = Field(default=None, max_length=16)
    sample_fps: float | None = None
    capture_fps: float | None = None
    captured_frames: int | None = Field(default=None, sa_type=BigInteger)
    last_frame_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    capture_errors: int | None = None
    capture_error: str | None = Field(default=None, max_length=200)
    capture_error_at: datetime | None = Field(default=None,
                                              sa_column=utc_column(nullable=True))
    health_reported_at: datetime | None = Field(default=None,
                                                sa_column=utc_column(nullable=True))
