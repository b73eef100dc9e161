"""Reception routes (thin): the rota's history by site and day, a visit's profile, a
project's reception settings (接待设置)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query

from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.reception import service
from cloud.reception import settings as reception_settings
from cloud.reception.schemas import ReceptionSettingsOut, RotaEventPublic, VisitProfilePublic
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX
from shared.reception import ReceptionRules

router = DomainRouter(prefix="/reception", tags=["reception 接待"])

projects = DomainRouter(prefix="/projects", tags=["reception 接待"])

VisitReader = Annotated[Principal, Depends(authorize(Perm.VISIT_READ))]
Configurer = Annotated[Principal, Depends(authorize(Perm.RECEPTION_CONFIGURE))]
ProjectId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]


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


@projects.get("/{project_id}/reception-settings", response_model=ReceptionSettingsOut,
              summary="项目的接待设置（未设置时为默认值）")
def read_settings(project_id: ProjectId, principal: VisitReader,
                  session: SessionDep) -> ReceptionSettingsOut:
    return reception_settings.read(session, principal, project_id)


@projects.put("/{project_id}/reception-settings", response_model=ReceptionSettingsOut,
              summary="修改项目的接待设置（记入审计，下发到案场设备）")
def save_settings(project_id: ProjectId, body: ReceptionRules, principal: Configurer,
                  session: SessionDep) -> ReceptionSettingsOut:
    return reception_settings.save(session, principal, project_id, body)
