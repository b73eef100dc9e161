"""Consultant PWA routes: my visitors today, and writing a follow-up (thin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from edge_agent.followups import service
from edge_agent.followups.schemas import FollowUpOut, MyVisitOut
from edge_agent.kiosk.api import visit_out
from edge_agent.kiosk.deps import SettingsDep, StoreDep
from edge_agent.staff_auth.deps import StaffDep
from shared.events import FollowUpDraft, check_follow_up_key
from shared.follow_ups import follow_up_effective

router = APIRouter(prefix="/staff", tags=["staff 顾问手机"])


@router.get("/visits/today", response_model=list[MyVisitOut], summary="今日我的来访")
async def my_visits_today(
    staff: StaffDep, store: StoreDep, settings: SettingsDep
) -> list[MyVisitOut]:
    rows = await service.my_visits_today(store, staff)
    return [
        MyVisitOut(**visit_out(visit, settings).model_dump(), follow_up_count=count)
        for visit, count in rows
    ]


@router.post(
    "/follow-ups", response_model=FollowUpOut, status_code=status.HTTP_201_CREATED,
    responses={200: {"model": FollowUpOut, "description": "该跟进已提交过，返回原记录"}},
    summary="写跟进（Idempotency-Key = 跟进 id）",
)
async def record_follow_up(
    body: FollowUpDraft,
    response: Response,
    staff: StaffDep,
    store: StoreDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> FollowUpOut:
    check_follow_up_key(idempotency_key, body.id)
    result = await service.record_follow_up(store, settings, staff, body)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    row = result.follow_up
    return FollowUpOut(
        id=row.id, visit_id=row.visit_id, project_id=row.project_id,
        phone_masked=row.phone_masked, consultant_id=row.consultant_id,
        kind=row.kind,
        reached=row.reached, effective=follow_up_effective(row.kind, row.reached),
        note=service.note_of(settings, row), next_at=row.next_at,
        occurred_at=row.occurred_at, recorded_at=row.recorded_at, seq=row.seq,
    )
