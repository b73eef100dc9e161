"""The staff app's face-consent routes (thin; ADR 0053): a sales manager finds a
visitor's face consents by phone and withdraws them on the visitor's request."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from edge_agent.faces import staff_consent
from edge_agent.faces.service import FaceService
from edge_agent.faces.staff_consent import ConsentState
from edge_agent.kiosk.deps import SettingsDep, StoreDep
from edge_agent.rota.staff_api import ManagerRequired
from edge_agent.staff_auth.deps import StaffDep, StaffUser
from shared.follow_ups import MANAGER_ROLES
from shared.timeutil import UtcDateTime, utcnow

router = APIRouter(prefix="/staff/faces", tags=["staff 人脸授权"])

Phone = Annotated[str, Field(min_length=1, max_length=40, description="访客登记时的手机号")]


class ConsentOut(BaseModel):
    visit_id: uuid.UUID
    project_id: int
    visit_date: str
    notice_version: str
    recorded_at: UtcDateTime
    state: ConsentState


class ConsentsOut(BaseModel):
    phone_masked: str
    consents: list[ConsentOut]


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: Phone


class WithdrawnOut(BaseModel):
    withdrawn: int = Field(description="撤回的授权数")
    erased: int = Field(description="删除的人脸身份数")


def _manager(staff: StaffUser) -> None:
    # Not consultants: one who tampered with a customer's face evidence could hide a
    # face-before-referral case (ADR 0053).
    if not MANAGER_ROLES & set(staff.roles):
        raise ManagerRequired()


@router.get("/consents", response_model=ConsentsOut,
            summary="按手机号查访客的人脸授权（经理；计入查询审计）")
async def find_consents(phone: Annotated[str, Query(min_length=1, max_length=40)],
                        request: Request, staff: StaffDep, store: StoreDep,
                        settings: SettingsDep) -> ConsentsOut:
    _manager(staff)
    found = await staff_consent.find(store, settings, staff, request.app.state.lookup_limiter,
                                     phone_raw=phone, now=utcnow())
    return ConsentsOut(phone_masked=found.phone_masked, consents=[
        ConsentOut(visit_id=c.visit_id, project_id=c.project_id, visit_date=c.visit_date,
                   notice_version=c.notice_version, recorded_at=c.recorded_at,
                   state=c.state) for c in found.consents])


@router.post("/consents/withdraw", response_model=WithdrawnOut,
             summary="应访客要求撤回其人脸授权，立即删除其人脸数据（经理）")
async def withdraw(body: WithdrawIn, request: Request, staff: StaffDep, store: StoreDep,
                   settings: SettingsDep) -> WithdrawnOut:
    _manager(staff)
    count, erased = await store.write(staff_consent.withdraw_all, settings, staff,
                                      phone_raw=body.phone, now=utcnow())
    store.outbox_committed()
    faces: FaceService | None = request.app.state.faces
    if faces is not None:
        faces.forget(erased)
    return WithdrawnOut(withdrawn=count, erased=len(erased))
