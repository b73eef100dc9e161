"""Routes of 带看记录 (thin): the guided-visit attempts and the provisional answers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query
from pydantic import AwareDatetime

from cloud.channel import guided_records
from cloud.channel.guided_records import GuideResult, ScanFilters
from cloud.channel.guided_schemas import GuidedVisitOut, ProvisionalCompareOut
from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX

router = DomainRouter(prefix="/channel", tags=["channel 带看记录"])

AttributionReader = Annotated[Principal, Depends(authorize(Perm.ATTRIBUTION_READ))]
OptionalId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX)]


@router.get("/guided-visits", response_model=list[GuidedVisitOut],
            summary="带看记录：扫码带看、拒收与重复使用、前台手工指定（新的在前；渠道经理看所辖项目的）")
def list_guided_visits(
    session: SessionDep, principal: AttributionReader,
    project_id: OptionalId = None, broker_id: OptionalId = None,
    result: GuideResult | None = None,
    method: Literal["qr", "manual"] | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX,
                                           description="上一页最后一条的 id")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[GuidedVisitOut]:
    rows = guided_records.list_scans(
        session, principal=principal, before_id=before_id, limit=limit,
        filters=ScanFilters(project_id=project_id, broker_id=broker_id, result=result,
                            method=method))
    return [GuidedVisitOut.model_validate(r) for r in rows]


@router.get("/provisional-answers", response_model=list[ProvisionalCompareOut],
            summary="登记时设备的临时判客与云端判客对比（新的在前，每页现算）")
def list_provisional_answers(
    session: SessionDep, principal: AttributionReader, settings: SettingsDep,
    project_id: OptionalId = None,
    differs: Annotated[bool, Query(description="只看与云端不一致的（本页内）")] = False,
    before: Annotated[AwareDatetime | None, Query(description="上一页最后一条的到访时间")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[ProvisionalCompareOut]:
    rows = guided_records.compare_registrations(
        session, principal=principal, settings=settings, project_id=project_id,
        differs_only=differs, before=before, limit=limit)
    return [ProvisionalCompareOut.model_validate(r) for r in rows]
