"""Routes of 判客依据 (why a customer is owned) and 规则模拟 (what-if of a rule change):
channel staff of the project's site only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from cloud.channel import explain, explain_export, scopes, whatif
from cloud.channel.judging_schemas import AttributionOut, WhatIfIn, WhatIfOut
from cloud.db import SessionDep
from cloud.downloads import XLSX_MEDIA_TYPE, attachment, beijing_stamp
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath
from shared.timeutil import utcnow

router = DomainRouter(prefix="/channel", tags=["channel 渠道与报备"])

AttributionReader = Annotated[Principal, Depends(authorize(Perm.ATTRIBUTION_READ))]
RulesReader = Annotated[Principal, Depends(authorize(Perm.CHANNEL_RULES_READ))]
OptionalId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX)]


@router.get("/projects/{project_id}/attribution", response_model=AttributionOut,
            summary="判客依据：客户为何归属某渠道——报备、到访、跟进、规则版本与每一步的判定"
                    "（按完整手机号、报备或客户查询；每次查询记入审计）")
def attribution(
    project_id: IdPath, session: SessionDep, principal: AttributionReader,
    settings: SettingsDep,
    phone: Annotated[str | None, Query(min_length=1, max_length=40,
                                       description="完整手机号（经盲索引查找）")] = None,
    referral_id: OptionalId = None, customer_id: OptionalId = None,
) -> AttributionOut:
    scopes.require_project(session, principal, project_id)
    return explain.explain(session, principal=principal, settings=settings,
                           project_id=project_id, as_of=utcnow(),
                           lookup=explain.Lookup(phone, referral_id, customer_id))


@router.get("/projects/{project_id}/attribution/export", response_class=Response,
            summary="导出判客依据（Excel：每一步的事件、报备状态变化与归属；号码与姓名脱敏；记入审计）",
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
def attribution_export(
    project_id: IdPath, session: SessionDep, principal: AttributionReader,
    settings: SettingsDep,
    phone: Annotated[str | None, Query(min_length=1, max_length=40,
                                       description="完整手机号（经盲索引查找）")] = None,
    referral_id: OptionalId = None, customer_id: OptionalId = None,
) -> Response:
    scopes.require_project(session, principal, project_id)
    answer = explain.explain(session, principal=principal, settings=settings,
                             project_id=project_id, as_of=utcnow(),
                             lookup=explain.Lookup(phone, referral_id, customer_id),
                             action="channel.attribution_export")
    stamp = beijing_stamp()
    return attachment(explain_export.workbook(answer), media_type=XLSX_MEDIA_TYPE,
                      filename=f"判客依据-{stamp}.xlsx",
                      ascii_filename=f"attribution-{stamp}.xlsx", truncated=False)


@router.post("/projects/{project_id}/rules/what-if", response_model=WhatIfOut,
             summary="规则模拟：拟议规则回放最近 N 天，列出归属或报备状态会变化的客户（不保存）")
def what_if(project_id: IdPath, body: WhatIfIn, session: SessionDep, principal: RulesReader,
            settings: SettingsDep) -> WhatIfOut:
    scopes.require_project(session, principal, project_id)
    return whatif.what_if(session, principal=principal, settings=settings,
                          project_id=project_id, parameters=body.rules, days=body.days,
                          effective_from=body.effective_from, as_of=utcnow())
