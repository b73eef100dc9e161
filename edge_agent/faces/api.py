"""Face routes (ADR 0047): the kiosk's separate face-consent step, and the field
engineer's view of the gallery, staff marking and consent withdrawal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.cameras.deps import EngineerAuth
from edge_agent.faces import consent, people, records
from edge_agent.faces.errors import FaceNoticeMismatch, FacesOff, VisitNotFound
from edge_agent.faces.schemas import (
    FaceConsentIn,
    FaceConsentOut,
    FacePersonOut,
    KioskFacesOut,
    StaffIn,
    WithdrawOut,
)
from edge_agent.faces.service import FaceService
from edge_agent.kiosk.deps import KioskAuth, SettingsDep, StoreDep
from edge_agent.store.models.reception import Visit
from shared.consent import KIOSK_SCREEN
from shared.timeutil import utcnow

router = APIRouter(tags=["faces 人脸"])


def _service(request: Request) -> FaceService | None:
    service: FaceService | None = request.app.state.faces
    return service


@router.get("/kiosk/faces", response_model=KioskFacesOut, dependencies=[KioskAuth],
            summary="本案场是否使用人脸识别（前台平板据此提供人脸授权步骤）")
async def kiosk_faces(store: StoreDep) -> KioskFacesOut:
    site = await store.read(records.site_settings)
    return KioskFacesOut(enabled=site.enabled, signage_text=site.signage_text,
                         notice_version=site.notice_version)


@router.post("/kiosk/visits/{visit_id}/face-consent", response_model=FaceConsentOut,
             dependencies=[KioskAuth], summary="访客单独同意人脸识别（可不同意，凭手机号登记）")
async def give_face_consent(visit_id: uuid.UUID, body: FaceConsentIn, request: Request,
                            store: StoreDep, settings: SettingsDep) -> FaceConsentOut:
    site = await store.read(records.site_settings)
    if not site.enabled:
        raise FacesOff()
    if body.notice_version != site.notice_version:
        raise FaceNoticeMismatch(extra={"notice_version": site.notice_version})
    service = _service(request)

    async def tx(session: AsyncSession) -> bool:
        if await session.get(Visit, visit_id) is None:
            raise VisitNotFound()
        record = await consent.grant(
            session, settings.cipher, visit_id=visit_id, notice_version=body.notice_version,
            method=KIOSK_SCREEN, kiosk_camera=service.kiosk_camera if service else None,
            actor=records.KIOSK, now=utcnow())
        return record.person_id is not None

    linked = await store.write(tx)
    store.outbox_committed()
    return FaceConsentOut(state="linked" if linked else "waiting")


@router.get("/faces/people", response_model=list[FacePersonOut], dependencies=[EngineerAuth],
            summary="本案场的人脸身份（访问记入人脸访问日志）")
async def face_people(store: StoreDep) -> list[FacePersonOut]:
    return await store.write(people.listing, utcnow())


@router.post("/faces/people/{person_ref}/staff", status_code=204,
             dependencies=[EngineerAuth], summary="把临时身份设为员工（员工不上报）")
async def mark_staff(person_ref: uuid.UUID, body: StaffIn, store: StoreDep,
                     settings: SettingsDep) -> None:
    await store.write(people.mark_staff, settings.cipher, person_ref, body.consultant_id,
                      utcnow())
    store.outbox_committed()


@router.post("/faces/consents/{visit_id}/withdraw", response_model=WithdrawOut,
             dependencies=[EngineerAuth], summary="撤回人脸授权并删除其人脸数据")
async def withdraw_consent(visit_id: uuid.UUID, request: Request, store: StoreDep,
                           settings: SettingsDep) -> WithdrawOut:
    erased = await store.write(consent.withdraw, settings.cipher, visit_id=visit_id,
                               actor=records.ENGINEER, now=utcnow())
    store.outbox_committed()
    service = _service(request)
    if service is not None:
        service.forget(erased)
    return WithdrawOut(erased=erased)
