"""The camera inventory as it travels up (edge → cloud): one event per change of a
camera the appliance knows, carrying its whole public record. Never a password, a
user name or a stream URL with credentials in it: the model refuses them, so neither
end can send or store them by mistake."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

from shared.events import EventTime, StrictFlag, Text

CAMERA_UPDATED = "camera.updated"
CAMERA_REMOVED = "camera.removed"

CameraStatus = Literal["discovered", "confirmed", "ignored"]
# What the last ONVIF query found: the field engineer acts on each differently.
OnvifState = Literal["ok", "no_credentials", "auth_failed", "unreachable", "onvif_error"]
CAMERA_NAME_MAX = 40
MAC_PATTERN = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
IDENTITY_PATTERN = r"^(mac|serial|endpoint):\S{1,200}$"
Port = Annotated[int, Strict(), Field(ge=1, le=65535)]
Dimension = Annotated[int, Strict(), Field(ge=1, le=16384)]


def _no_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("rtsp", "rtsps", "http", "https"):
        raise ValueError("a stream URL is rtsp(s) or http(s)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("a stream URL must not carry credentials")
    return url


StreamUrl = Annotated[str, Field(max_length=500), AfterValidator(_no_credentials)]


class CameraProfile(BaseModel):
    """An ONVIF media profile: one stream of the camera."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: Text = Field(min_length=1, max_length=64)
    name: Text = Field(min_length=1, max_length=64)
    encoding: Text | None = Field(default=None, max_length=16)
    width: Dimension | None = None
    height: Dimension | None = None
    fps: Annotated[int, Strict(), Field(ge=0, le=1000)] | None = None
    stream_uri: StreamUrl | None = None


class CameraUpdated(BaseModel):
    """A camera as the appliance now knows it (found, re-queried, confirmed, renamed or
    ignored by the field engineer). `identity` is `mac:…` when the camera told its MAC,
    else `serial:<brand>:<serial>`, else `endpoint:<WS-Discovery address>` until it
    answers with credentials. The last event of a `camera_id` wins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: UUID
    identity: str = Field(pattern=IDENTITY_PATTERN, max_length=210)
    mac: str | None = Field(default=None, pattern=MAC_PATTERN)
    serial: Text | None = Field(default=None, max_length=64)
    brand: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    manufacturer: Text | None = Field(default=None, max_length=64)
    model: Text | None = Field(default=None, max_length=64)
    firmware: Text | None = Field(default=None, max_length=64)
    host: Text = Field(min_length=1, max_length=255)
    onvif_port: Port
    name: Text | None = Field(default=None, max_length=CAMERA_NAME_MAX)
    status: CameraStatus
    onvif_state: OnvifState
    last_error: Text | None = Field(default=None, max_length=200)
    has_credentials: StrictFlag
    profiles: list[CameraProfile] = Field(default_factory=list, max_length=16)
    discovered_at: EventTime
    confirmed_at: EventTime | None = None


class CameraRemoved(BaseModel):
    """The appliance no longer holds this camera record: merged into the record of the
    same device found under a better identity (`merged_into`), or deleted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: UUID
    merged_into: UUID | None = None


CAMERA_HEALTH = "camera.health"
CaptureState = Literal["starting", "streaming", "reconnecting", "stopped"]


class CameraHealth(BaseModel):
    """How a camera's video reader is doing (ADR 0040): written when its state changes
    and every few minutes while it streams. Counts and times only — never a frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera_id: UUID
    state: CaptureState
    sample_fps: Annotated[float, Field(gt=0, le=30)]
    fps: Annotated[float, Field(ge=0, le=1000)]
    frames: Annotated[int, Strict(), Field(ge=0)]
    last_frame_at: EventTime | None = None
    errors: Annotated[int, Strict(), Field(ge=0)]
    last_error: Text | None = Field(default=None, max_length=200)
    last_error_at: EventTime | None = None
