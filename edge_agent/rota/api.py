"""Rota routes (thin): the board, check-in and check-out, today's queue changes."""

from __future__ import annotations

from fastapi import APIRouter

from edge_agent.kiosk.deps import KioskAuth, StoreDep
from edge_agent.rota import service
from edge_agent.rota.schemas import DutyChangeOut, DutyIn, RotaBoardOut, RotaEventOut

router = APIRouter(prefix="/kiosk/rota", tags=["rota"], dependencies=[KioskAuth])


@router.get("/board", response_model=RotaBoardOut)
async def board(store: StoreDep) -> RotaBoardOut:
    return await service.board(store)


@router.post("/check-in", response_model=DutyChangeOut)
async def check_in(body: DutyIn, store: StoreDep) -> DutyChangeOut:
    return await service.check_in(store, body.consultant_id)


@router.post("/check-out", response_model=DutyChangeOut)
async def check_out(body: DutyIn, store: StoreDep) -> DutyChangeOut:
    return await service.check_out(store, body.consultant_id)


@router.get("/events", response_model=list[RotaEventOut])
async def events(store: StoreDep) -> list[RotaEventOut]:
    return await service.events(store)
