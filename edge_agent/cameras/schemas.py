"""Requests and answers of the field engineer's camera routes."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from shared.cameras import (
    CAMERA_NAME_MAX,
    CameraProfile,
    CameraStatus,
    CaptureState,
    OnvifState,
)
from shared.events import Text
from shared.timeutil import UtcDateTime


def _lan_address(value: str) -> str:
    """Cameras are addressed by their IPv4 address on the office LAN: never a name (no
    DNS on many appliances' LANs) and never a public address (the appliance must not be
    made to send camera credentials out)."""
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError as exc:
        raise ValueError("请填写摄像机的 IPv4 地址，如 192.168.1.64") from exc
    if not (address.is_private or address.is_link_local or address.is_loopback):
        raise ValueError("只能填写局域网内的地址")
    return str(address)


LanAddress = Annotated[str, Field(max_length=15), AfterValidator(_lan_address)]
Username = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s:@/]+$")]
Password = Annotated[SecretStr, Field(min_length=1, max_length=128)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScanRequest(_Body):
    multicast: bool = Field(True, description="向本网段组播探测（WS-Discovery）")
    addresses: list[LanAddress] = Field(
        default_factory=list, max_length=64,
        description="另外逐个单播探测的地址（其他网段的摄像机）")
    username: Username | None = Field(
        None, description="用这组账号密码查询新发现的摄像机（可不填）")
    password: Password | None = None

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("账号和密码须同时填写或同时不填")
        if not self.multicast and not self.addresses:
            raise ValueError("请开启组播探测，或填写要探测的地址")
        return self


class CredentialsRequest(_Body):
    username: Username
    password: Password


class AddRequest(CredentialsRequest):
    host: LanAddress = Field(description="摄像机 IP")
    port: int = Field(80, ge=1, le=65535, description="ONVIF 端口")


class ConfirmRequest(_Body):
    name: Text = Field(min_length=1, max_length=CAMERA_NAME_MAX,
                       description="安装位置，如“大堂入口”")


class CaptureRequest(_Body):
    sample_fps: float = Field(ge=0.2, le=10, description="每秒抽取几帧做人脸检测（0.2–10）")
    profile_token: Text | None = Field(
        None, min_length=1, max_length=64,
        description="读取哪路码流（媒体配置的 token）；不填：自动选不小于 640 宽的最小码流")


class CaptureOut(BaseModel):
    """How the appliance is reading the camera right now."""

    state: CaptureState = Field(description="starting 启动中 / streaming 取流正常 / "
                                "reconnecting 断流重连中 / stopped 已停止")
    fps: float = Field(description="最近 10 秒实测抽帧率")
    frames: int
    last_frame_at: UtcDateTime | None
    errors: int = Field(description="取流失败次数（自读取器启动）")
    last_error: str | None


class CameraOut(BaseModel):
    """A camera as the field engineer sees it: never its password."""

    id: uuid.UUID
    identity: str
    mac: str | None
    serial: str | None
    brand: str
    brand_name: str
    manufacturer: str | None
    model: str | None
    firmware: str | None
    host: str
    onvif_port: int
    username: str | None
    has_credentials: bool
    name: str | None
    status: CameraStatus
    onvif_state: OnvifState
    last_error: str | None
    profiles: list[CameraProfile]
    notes: list[str] = Field(description="该品牌的安装注意事项")
    discovered_at: UtcDateTime
    last_seen_at: UtcDateTime
    confirmed_at: UtcDateTime | None
    sample_fps: float = Field(description="抽帧率（帧/秒）")
    capture_profile: str | None = Field(description="指定读取的码流；null：自动")
    capture: CaptureOut | None = Field(description="正在取流时的状态；null：未取流")
