"""Reception routes (thin): the rota's history by site and day, a visit's profile."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.reception import service
from cloud.reception.schemas import RotaEventPublic, VisitProfilePublic
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX

router = DomainRouter(prefix="/reception", tags=["reception 接待"])

VisitReader = Annotated[Principal, Depends(authorize(Perm.VISIT_READ))]


@router.get("/rota-events", response_model=list[RotaEventPublic], summary="轮岗记录")
def rota_events(
    principal: VisitReader,
    session: SessionDep,
    site_id: Annotated[str | None, Query(max_length=32)] = None,
    duty_date: Annotated[date | None, Query(description="北京时间日期；默认今天")] = None,
    consultant_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
) -> list[RotaEventPublic]:
    return service.rota_events(session, principal, site_id=site_id, duty_date=duty_date,
                               consultant_id=consultant_id)


@router.get("/visits/{visit_id}/profile", response_model=VisitProfilePublic,
            summary="到访的客户画像（性别、认知途径、意向、等级、号码归属地、义务接待）")
def visit_profile(visit_id: str, principal: VisitReader,
                  session: SessionDep) -> VisitProfilePublic:
    return service.visit_profile(session, principal, visit_id)
