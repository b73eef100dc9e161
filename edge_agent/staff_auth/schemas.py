"""Bodies of the consultant login on the edge."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.timeutil import UtcDateTime


class StaffLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, description="云端登录名")
    password: str = Field(min_length=1, max_length=128)


class StaffOut(BaseModel):
    id: int
    name: str
    roles: list[str]


class SiteProjectOut(BaseModel):
    id: int
    name: str


class StaffSessionOut(BaseModel):
    """What the phone keeps: the edge token for this office (works offline until it
    expires or the cloud revokes it), and the cloud's short-lived access token for when
    this office's appliance is out of reach. No cloud refresh token: script must not hold
    a long-lived one (ADR 0019)."""

    edge_token: str
    edge_token_expires_at: UtcDateTime
    cloud_access_token: str
    cloud_url: str | None = Field(description="云端 API 地址（案场设备不可达时手机直接提交）")
    site_id: str
    user: StaffOut
    projects: list[SiteProjectOut]
    default_project_id: int | None
