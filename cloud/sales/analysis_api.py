"""Routes of 销售分析: the rules page's figures, the 储客 → 跟客 → 成交 funnel, 去化率 and
the visitors' intentions, each grouped by one dimension.

Every count is over the caller's sites' projects (a project outside them is not found)
and, for a consultant, over their own visits, deals and customers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import Response
from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel.analytics import default_range
from cloud.db import SessionDep
from cloud.downloads import XLSX_MEDIA_TYPE, attachment, beijing_stamp
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.inventory import scope as inventory_scope
from cloud.routing import DomainRouter
from cloud.sales import analysis, analysis_export
from cloud.sales.analysis_facts import Scope
from cloud.sales.analysis_schemas import (
    FiguresOut,
    FunnelOut,
    GroupBy,
    IntentionField,
    IntentionsOut,
    SellThroughBy,
    SellThroughOut,
)
from shared.bounds import DB_INT_MAX

router = DomainRouter(prefix="/sales/analysis", tags=["sales 销售分析"])

Reader = Annotated[Principal, Depends(authorize(Perm.SALES_ANALYSIS_READ))]
Exporter = Annotated[Principal, Depends(authorize(Perm.SALES_ANALYSIS_READ,
                                                  Perm.SALES_ANALYSIS_ALL))]
ProjectId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX,
                                        description="项目；不填为可见的全部项目")]
Day = Annotated[date | None, Query(description="北京时间的日期（含）；默认近 30 天")]
Group = Annotated[GroupBy | None, Query(
    description="分组维度：team 销售团队（案场）、product 产品（户型）、consultant 置业顾问、"
                "channel 渠道（来源）；不填只给合计")]


def _scope(session: Session, principal: Principal, project_id: int | None) -> Scope:
    """The caller's scope; a project outside it is not found, as everywhere in sales."""
    if project_id is not None:
        inventory_scope.project(session, principal, project_id)
    return Scope.of(principal, project_id)


def _window(session: Session, principal: Principal, project_id: int | None,
            date_from: date | None, date_to: date | None,
            group_by: str | None) -> analysis.Window:
    start, end = default_range(date_from, date_to)
    return analysis.Window(_scope(session, principal, project_id), start, end, group_by)


def _dated(w: analysis.Window, answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "date_from": w.date_from, "date_to": w.date_to}


@router.get("/figures", response_model=FiguresOut,
            summary="销售指标：到访组数、来电转来访、来访转成交、认筹/认购/签约、净签约（按维度分组）")
def figures(session: SessionDep, principal: Reader, project_id: ProjectId = None,
            date_from: Day = None, date_to: Day = None, group_by: Group = None) -> FiguresOut:
    w = _window(session, principal, project_id, date_from, date_to, group_by)
    return FiguresOut.model_validate(_dated(w, analysis.figures(session, w)))


@router.get("/funnel", response_model=FunnelOut,
            summary="客户漏斗：储客 → 跟客 → 成交（按维度分组）")
def funnel(session: SessionDep, principal: Reader, project_id: ProjectId = None,
           date_from: Day = None, date_to: Day = None, group_by: Group = None) -> FunnelOut:
    w = _window(session, principal, project_id, date_from, date_to, group_by)
    return FunnelOut.model_validate(_dated(w, analysis.funnel(session, w)))


@router.get("/sell-through", response_model=SellThroughOut,
            summary="去化率：已售 ÷ 已推（当前状态，按推盘批次、户型或案场）")
def sell_through(session: SessionDep, principal: Reader, project_id: ProjectId = None,
                 group_by: SellThroughBy = "batch") -> SellThroughOut:
    return SellThroughOut.model_validate(
        analysis.sell_through(session, _scope(session, principal, project_id), group_by))


@router.get("/intentions", response_model=IntentionsOut,
            summary="客户需求与意向：到访按意向字段的取值计数（按维度分组）")
def intentions(session: SessionDep, principal: Reader,
               field: Annotated[IntentionField, Query(description="意向字段")] = "grade",
               project_id: ProjectId = None, date_from: Day = None, date_to: Day = None,
               group_by: Group = None) -> IntentionsOut:
    w = _window(session, principal, project_id, date_from, date_to, group_by)
    return IntentionsOut.model_validate(_dated(w, analysis.intentions(session, w, field)))


@router.get("/figures/export", summary="导出销售指标与客户漏斗（Excel）", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
def export(session: SessionDep, principal: Exporter, project_id: ProjectId = None,
           date_from: Day = None, date_to: Day = None, group_by: Group = None) -> Response:
    w = _window(session, principal, project_id, date_from, date_to, group_by)
    content = analysis_export.xlsx(analysis.figures(session, w), analysis.funnel(session, w),
                                   window=w, principal=principal)
    audit_service.record(
        session, action="sales.analysis_export", principal=principal,
        object_type="sales_analysis",
        detail={"project_id": project_id, "date_from": w.date_from.isoformat(),
                "date_to": w.date_to.isoformat(), "group_by": group_by})
    stamp = beijing_stamp()
    return attachment(content, media_type=XLSX_MEDIA_TYPE, filename=f"销售分析-{stamp}.xlsx",
                      ascii_filename=f"sales-analysis-{stamp}.xlsx", truncated=False)
