"""The console's view of a site's cameras (the 案场设备 page)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from cloud.cameras.models import SiteCamera
from cloud.catalog import service as catalog_service
from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.cameras import CameraProfile, CameraStatus, CaptureState, OnvifState
from shared.timeutil import UtcDateTime

router = DomainRouter(prefix="/cameras", tags=["cameras 摄像机"])

SyncReader = Annotated[Principal, Depends(authorize(Perm.SYNC_READ))]


class SiteCameraOut(BaseModel):
    camera_id: uuid.UUID
    identity: str = Field(description="mac:… / serial:品牌:序列号 / endpoint:…（尚未取得身份）")
    mac: str | None
    serial: str | None
    brand: str
    manufacturer: str | None
    model: str | None
    firmware: str | None
    host: str
    onvif_port: int
    name: str | None = Field(description="现场工程师确认时填写的安装位置")
    status: CameraStatus = Field(
        description="discovered 待确认 / confirmed 已确认 / ignored 已忽略")
    onvif_state: OnvifState
    last_error: str | None
    has_credentials: bool
    profiles: list[CameraProfile]
    discovered_at: UtcDateTime
    confirmed_at: UtcDateTime | None
    reported_at: UtcDateTime
    capture_state: CaptureState | None = Field(
        description="取流状态：streaming 正常 / reconnecting 重连中 / stopped 已停止；"
        "null：尚未上报")
    sample_fps: float | None = Field(description="设定的抽帧率（帧/秒）")
    capture_fps: float | None = Field(description="最近 10 秒实测帧率")
    captured_frames: int | None
    last_frame_at: UtcDateTime | None
    capture_errors: int | None = Field(description="取流失败次数（自读取器启动）")
    capture_error: str | None
    capture_error_at: UtcDateTime | None
    health_reported_at: UtcDateTime | None


@router.get("", response_model=list[SiteCameraOut], summary="案场的摄像机")
def site_cameras(
    session: SessionDep, principal: SyncReader,
    site_id: Annotated[str, Query(min_length=2, max_length=32, description="案场代码")],
) -> list[SiteCamera]:
    catalog_service.get_site(session, principal=principal, site_id=site_id)
    query = select(SiteCamera).where(col(SiteCamera.site_id) == site_id).order_by(
        col(SiteCamera.status), col(SiteCamera.host), col(SiteCamera.id))
    return list(session.exec(query).all())


