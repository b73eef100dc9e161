"""Consultant login and identity on the edge (thin routes)."""

from __future__ import annotations

from fastapi import APIRouter

from edge_agent.kiosk.deps import SettingsDep, StoreDep
from edge_agent.staff_auth import service
from edge_agent.staff_auth.deps import CloudDep, StaffDep
from edge_agent.staff_auth.schemas import StaffLoginIn, StaffOut, StaffSessionOut

router = APIRouter(prefix="/staff", tags=["staff 顾问手机"])


@router.post("/login", response_model=StaffSessionOut,
             summary="顾问登录（经本设备向云端验证密码，领取本案场令牌）")
async def login(
    body: StaffLoginIn, store: StoreDep, settings: SettingsDep, cloud: CloudDep
) -> StaffSessionOut:
    return await service.login(store, settings, cloud, username=body.username,
                               password=body.password)


@router.get("/me", response_model=StaffOut, summary="当前顾问（校验令牌，可离线）")
async def me(staff: StaffDep) -> StaffOut:
    return StaffOut(id=staff.id, name=staff.name, roles=list(staff.roles))
