"""Rota routes (thin): the board, check-in / out, away / back, today's queue changes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from edge_agent.kiosk.api import tablet_of
from edge_agent.kiosk.deps import KioskAuth, SettingsDep, StoreDep
from edge_agent.rota import service
from edge_agent.rota.schemas import AwayIn, DutyChangeOut, DutyIn, RotaBoardOut, RotaEventOut

router = APIRouter(prefix="/kiosk/rota", tags=["rota"], dependencies=[KioskAuth])


def _actor(request: Request) -> str:
    return f"kiosk:{tablet_of(request)}"


@router.get("/board", response_model=RotaBoardOut)
async def board(store: StoreDep, settings: SettingsDep) -> RotaBoardOut:
    return await service.board(store, settings)


@router.post("/check-in", response_model=DutyChangeOut)
async def check_in(body: DutyIn, request: Request, store: StoreDep,
                   settings: SettingsDep) -> DutyChangeOut:
    return await service.change(store, settings, "check_in", body.consultant_id,
                                actor=_actor(request))


@router.post("/check-out", response_model=DutyChangeOut)
async def check_out(body: DutyIn, request: Request, store: StoreDep,
                    settings: SettingsDep) -> DutyChangeOut:
    return await service.change(store, settings, "check_out", body.consultant_id,
                                actor=_actor(request))


@router.post("/away", response_model=DutyChangeOut, summary="离开（补接或排到队尾/退出）")
async def away(body: AwayIn, request: Request, store: StoreDep,
               settings: SettingsDep) -> DutyChangeOut:
    return await service.change(store, settings, "away", body.consultant_id,
                                actor=_actor(request), reason=body.reason, note=body.note)


@router.post("/back", response_model=DutyChangeOut, summary="回岗")
async def back(body: DutyIn, request: Request, store: StoreDep,
               settings: SettingsDep) -> DutyChangeOut:
    return await service.change(store, settings, "back", body.consultant_id,
                                actor=_actor(request))


@router.get("/events", response_model=list[RotaEventOut])
async def events(store: StoreDep) -> list[RotaEventOut]:
    return await service.events(store)
