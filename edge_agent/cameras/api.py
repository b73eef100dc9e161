"""The field engineer's camera routes on the appliance (the kiosk app's 摄像机 page)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from edge_agent.cameras import service
from edge_agent.cameras.capture import CaptureHealth
from edge_agent.cameras.deps import CaptureHealthDep, EngineerAuth, FirmwareDep
from edge_agent.cameras.firmware import FirmwareConfigs
from edge_agent.cameras.inspection import Credentials
from edge_agent.cameras.inventory import public_record
from edge_agent.cameras.models import Camera
from edge_agent.cameras.schemas import (
    AddRequest,
    CameraOut,
    CaptureOut,
    CaptureRequest,
    ConfirmRequest,
    CredentialsRequest,
    ScanRequest,
)
from edge_agent.kiosk.deps import SettingsDep, StoreDep

router = APIRouter(prefix="/cameras", tags=["cameras 摄像机"], dependencies=[EngineerAuth])


def _out(camera: Camera, configs: FirmwareConfigs,
         health: dict[str, CaptureHealth]) -> CameraOut:
    brand = configs.get(camera.brand)
    record = public_record(camera)
    running = health.get(str(camera.id))
    capture = None if running is None else CaptureOut(
        state=running.state, fps=running.fps, frames=running.frames,
        last_frame_at=running.last_frame_at, errors=running.errors,
        last_error=running.last_error)
    return CameraOut(
        **record.model_dump(exclude={"camera_id", "has_credentials"}), id=camera.id,
        has_credentials=record.has_credentials, brand_name=brand.display_name,
        username=camera.username, notes=brand.quirks.notes, last_seen_at=camera.last_seen_at,
        sample_fps=camera.sample_fps, capture_profile=camera.capture_profile, capture=capture)


def _credentials(body: CredentialsRequest) -> Credentials:
    return Credentials(body.username, body.password.get_secret_value())


@router.get("", response_model=list[CameraOut], summary="本案场已发现的摄像机")
async def list_cameras(store: StoreDep, configs: FirmwareDep,
                       health: CaptureHealthDep) -> list[CameraOut]:
    return [_out(c, configs, health) for c in await service.list_cameras(store)]


@router.post("/scan", response_model=list[CameraOut], summary="探测局域网内的摄像机")
async def scan(body: ScanRequest, store: StoreDep, settings: SettingsDep,
               configs: FirmwareDep, health: CaptureHealthDep) -> list[CameraOut]:
    credentials = (Credentials(body.username, body.password.get_secret_value())
                   if body.username is not None and body.password is not None else None)
    found = await service.scan(store, settings, configs, multicast=body.multicast,
                               addresses=body.addresses, credentials=credentials)
    return [_out(c, configs, health) for c in found]


@router.post("", response_model=CameraOut, status_code=201, summary="按 IP 添加摄像机")
async def add(body: AddRequest, store: StoreDep, settings: SettingsDep,
              configs: FirmwareDep, health: CaptureHealthDep) -> CameraOut:
    camera = await service.add(store, settings, configs, host=body.host, port=body.port,
                               credentials=_credentials(body))
    return _out(camera, configs, health)


@router.put("/{camera_id}/credentials", response_model=CameraOut, summary="填写摄像机账号密码")
async def set_credentials(camera_id: uuid.UUID, body: CredentialsRequest, store: StoreDep,
                          settings: SettingsDep, configs: FirmwareDep,
                          health: CaptureHealthDep) -> CameraOut:
    camera = await service.set_credentials(store, settings, configs, camera_id,
                                           _credentials(body))
    return _out(camera, configs, health)


@router.post("/{camera_id}/confirm", response_model=CameraOut, summary="确认启用摄像机")
async def confirm(camera_id: uuid.UUID, body: ConfirmRequest, store: StoreDep,
                  settings: SettingsDep, configs: FirmwareDep,
                  health: CaptureHealthDep) -> CameraOut:
    return _out(await service.confirm(store, settings, camera_id, body.name), configs,
                health)


@router.post("/{camera_id}/ignore", response_model=CameraOut, summary="忽略（不使用）该设备")
async def ignore(camera_id: uuid.UUID, store: StoreDep, settings: SettingsDep,
                 configs: FirmwareDep, health: CaptureHealthDep) -> CameraOut:
    return _out(await service.ignore(store, settings, camera_id), configs, health)


@router.put("/{camera_id}/capture", response_model=CameraOut, summary="设置抽帧率与码流")
async def set_capture(camera_id: uuid.UUID, body: CaptureRequest, store: StoreDep,
                      configs: FirmwareDep, health: CaptureHealthDep) -> CameraOut:
    camera = await service.set_capture(store, camera_id, sample_fps=body.sample_fps,
                                       profile_token=body.profile_token)
    return _out(camera, configs, health)
