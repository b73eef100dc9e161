"""来电登记 routes (thin): the kiosk registers a call for the consultant who answered it,
the consultant's phone registers one they answered themselves."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel, Field

from edge_agent.calls import service
from edge_agent.kiosk.api import tablet_of
from edge_agent.kiosk.deps import KioskAuth, SettingsDep, StoreDep
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.deps import StaffDep
from edge_agent.store.models.customers import IncomingCall
from shared.errors import ValidationFailed
from shared.events import check_record_key
from shared.names import mask_name
from shared.reception_events import CallDraft
from shared.timeutil import UtcDateTime

kiosk_router = APIRouter(prefix="/kiosk", tags=["kiosk"], dependencies=[KioskAuth])
staff_router = APIRouter(prefix="/staff", tags=["staff 顾问手机"])

_REPLAYED: dict[int | str, dict[str, Any]] = {200: {"description": "该来电已登记过，返回原记录"}}


class CallKeyMismatch(ValidationFailed):
    code = "idempotency_key_mismatch"
    title = "Idempotency-Key 请求头必须等于来电记录的 id"


class CallOut(BaseModel):
    id: UUID
    project_id: int
    phone_masked: str
    name_masked: str | None
    awareness: str | None = Field(description="认知途径")
    consultant_id: int | None = Field(description="接听的置业顾问")
    occurred_at: UtcDateTime = Field(description="登记时间（本机时钟，UTC）")
    call_date: date = Field(description="来电日期（北京时间）")
    seq: int


def call_out(call: IncomingCall, settings: EdgeSettings) -> CallOut:
    return CallOut(
        id=call.id, project_id=call.project_id, phone_masked=call.phone_masked,
        name_masked=mask_name(service.name_of(settings, call)), awareness=call.awareness,
        consultant_id=call.consultant_id, occurred_at=call.occurred_at,
        call_date=date.fromisoformat(call.call_date), seq=call.seq)


def _answer(result: service.Recorded, response: Response, settings: EdgeSettings) -> CallOut:
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return call_out(result.call, settings)


@kiosk_router.post("/calls", response_model=CallOut, status_code=status.HTTP_201_CREATED,
                   responses=_REPLAYED, summary="来电登记（Idempotency-Key = 来电记录 id）")
async def kiosk_record_call(
    body: CallDraft, request: Request, response: Response, store: StoreDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> CallOut:
    check_record_key(idempotency_key, body.id, CallKeyMismatch)
    result = await service.record_call(
        store, settings, body, recorded_by=f"kiosk:{tablet_of(request)}"[:64],
        consultant_id=body.consultant_id)
    return _answer(result, response, settings)


@kiosk_router.get("/calls", response_model=list[CallOut], summary="今日来电")
async def kiosk_calls_today(store: StoreDep, settings: SettingsDep) -> list[CallOut]:
    return [call_out(c, settings) for c in await service.calls_today(store)]


@staff_router.post("/calls", response_model=CallOut, status_code=status.HTTP_201_CREATED,
                   responses=_REPLAYED, summary="登记我接听的来电（Idempotency-Key = 来电记录 id）")
async def staff_record_call(
    body: CallDraft, response: Response, staff: StaffDep, store: StoreDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> CallOut:
    """The consultant registers a call they answered: `consultant_id` is always them."""
    check_record_key(idempotency_key, body.id, CallKeyMismatch)
    result = await service.record_call(store, settings, body, recorded_by=f"user:{staff.id}",
                                       consultant_id=staff.id)
    return _answer(result, response, settings)


@staff_router.get("/calls/today", response_model=list[CallOut], summary="今日我接听的来电")
async def staff_calls_today(staff: StaffDep, store: StoreDep,
                            settings: SettingsDep) -> list[CallOut]:
    return [call_out(c, settings)
            for c in await service.calls_today(store, consultant_id=staff.id)]
