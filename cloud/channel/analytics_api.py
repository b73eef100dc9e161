"""Routes of 渠道业绩 (funnel, trend, rankings) and 多维查询 (query, export, its fields).

Every count is over the referrals in the caller's scope (analytics.scope); naming a
project or agency outside it only narrows to nothing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.responses import Response
from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel import analytics, analytics_export, analytics_reports, saved_queries
from cloud.channel.analytics_fields import DIMENSIONS, MEASURES
from cloud.channel.analytics_schemas import (
    FieldOut,
    FieldsOut,
    Granularity,
    Group,
    PageIn,
    PerformanceOut,
    QueryDefinition,
    QueryIn,
    QueryOut,
    RankBy,
    RankingOut,
    SavedName,
    SavedQueryOut,
    Subject,
)
from cloud.channel.saved_query_models import SavedQuery
from cloud.db import SessionDep
from cloud.downloads import EXPORT_MAX_ROWS, XLSX_MEDIA_TYPE, attachment, beijing_stamp
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX

router = DomainRouter(prefix="/channel/analytics", tags=["channel 渠道业绩与多维查询"])

AnalyticsReader = Annotated[Principal, Depends(authorize(Perm.ANALYTICS_READ))]
AnalyticsExporter = Annotated[Principal, Depends(authorize(Perm.ANALYTICS_READ,
                                                           Perm.ANALYTICS_EXPORT))]
ProjectId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="项目；不填为全部")]
Day = Annotated[date | None, Query(description="北京时间的报备日期（含）")]


def _filters(project_id: int | None, date_from: date | None,
             date_to: date | None) -> analytics.Filters:
    start, end = analytics.default_range(date_from, date_to)
    return analytics.Filters(date_from=start, date_to=end,
                             project_ids=(project_id,) if project_id else ())


@router.get("/performance", response_model=PerformanceOut,
            summary="渠道业绩：各渠道分组的 报备 → 判客有效 → 认购 漏斗与趋势")
def performance(session: SessionDep, principal: AnalyticsReader,
                project_id: ProjectId = None, date_from: Day = None, date_to: Day = None,
                group: Group = "channel_group",
                granularity: Granularity = "day") -> PerformanceOut:
    return PerformanceOut.model_validate(analytics_reports.performance(
        session, principal, filters=_filters(project_id, date_from, date_to), group=group,
        granularity=granularity))


@router.get("/rankings", response_model=RankingOut,
            summary="排行榜：渠道公司、经纪人、置业顾问按报备、有效报备、到访或转化率")
def rankings(session: SessionDep, principal: AnalyticsReader,
             subject: Subject = "agency", by: RankBy = "referrals",
             limit: Annotated[int, Query(ge=1, le=50)] = 10,
             project_id: ProjectId = None, date_from: Day = None,
             date_to: Day = None) -> RankingOut:
    return RankingOut.model_validate(analytics_reports.rankings(
        session, principal, filters=_filters(project_id, date_from, date_to),
        subject=subject, by=by, limit=limit))


@router.get("/fields", response_model=FieldsOut, summary="多维查询可选的维度与指标")
def fields(principal: AnalyticsReader) -> FieldsOut:
    return FieldsOut(
        dimensions=[FieldOut(key=d.name, title=d.title) for d in DIMENSIONS.values()],
        measures=[FieldOut(key=m.name, title=m.title) for m in MEASURES.values()],
        max_dimensions=analytics.MAX_DIMENSIONS)


def _spec(body: QueryDefinition, *, offset: int, limit: int) -> analytics.Spec:
    start, end = analytics.default_range(body.filters.date_from, body.filters.date_to)
    spec = analytics.Spec(
        dimensions=tuple(body.dimensions), measures=tuple(body.measures),
        filters=body.filters.filters(start, end),
        sort=tuple(analytics.Sort(s.by, s.desc) for s in body.sort),
        offset=offset, limit=limit)
    analytics.validate(spec)
    return spec


@router.post("/query", response_model=QueryOut,
             summary="多维查询：按至多 3 个维度分组统计报备、判客与客户")
def query(body: QueryIn, session: SessionDep, principal: AnalyticsReader) -> QueryOut:
    return _answer(session, principal, body, body)


def _answer(session: Session, principal: Principal, body: QueryDefinition,
            page: PageIn) -> QueryOut:
    spec = _spec(body, offset=(page.page - 1) * page.page_size, limit=page.page_size)
    table = analytics.run(session, principal, spec)
    return QueryOut.model_validate({
        "columns": analytics_export.columns(table),
        "items": analytics_export.labelled(session, table), "total": table.total,
        "page": page.page, "page_size": page.page_size,
        "needs": analytics_reports.needs()})


def _check(body: QueryDefinition) -> None:
    _spec(body, offset=0, limit=1)


def _saved_out(row: SavedQuery) -> SavedQueryOut:
    return SavedQueryOut(name=row.name, query=saved_queries.parsed(row),
                         created_at=row.created_at, updated_at=row.updated_at)


SavedPath = Annotated[SavedName, Path(description="查询名称")]


@router.get("/saved-queries", response_model=list[SavedQueryOut],
            summary="我保存的多维查询")
def my_saved_queries(session: SessionDep, principal: AnalyticsReader) -> list[SavedQueryOut]:
    return [_saved_out(r) for r in saved_queries.mine(session, principal.user_id)]


@router.put("/saved-queries/{name}", response_model=SavedQueryOut,
            summary="保存多维查询（同名则替换；按可选维度与指标校验）")
def save_query(name: SavedPath, body: QueryDefinition, session: SessionDep,
               principal: AnalyticsReader) -> SavedQueryOut:
    row = saved_queries.save(session, owner_id=principal.user_id, name=name, query=body,
                             check=_check)
    return _saved_out(row)


@router.post("/saved-queries/{name}/run", response_model=QueryOut,
             summary="运行已保存的多维查询（按当前可见范围统计）")
def run_saved_query(name: SavedPath, session: SessionDep, principal: AnalyticsReader,
                    page: PageIn | None = None) -> QueryOut:
    found = saved_queries.definition(session, owner_id=principal.user_id, name=name)
    return _answer(session, principal, found, page or PageIn())


@router.delete("/saved-queries/{name}", status_code=204, response_class=Response,
               summary="删除已保存的多维查询")
def delete_saved_query(name: SavedPath, session: SessionDep,
                       principal: AnalyticsReader) -> Response:
    saved_queries.delete(session, owner_id=principal.user_id, name=name)
    return Response(status_code=204)


@router.post("/query/export", summary="导出多维查询结果（Excel）", response_class=Response,
             responses={200: {"content": {XLSX_MEDIA_TYPE: {}},
                              "description": f"XLSX，最多 {EXPORT_MAX_ROWS:,} 行；"
                                             "X-Export-Truncated 表示是否被截断"}})
def export(body: QueryIn, session: SessionDep, principal: AnalyticsExporter) -> Response:
    spec = _spec(body, offset=0, limit=EXPORT_MAX_ROWS)
    table = analytics.run(session, principal, spec)
    detail = spec.filters.as_detail()
    book = analytics_export.xlsx(analytics_export.labelled(session, table), table,
                                 principal=principal, filters=detail,
                                 max_rows=EXPORT_MAX_ROWS)
    audit_service.record(
        session, action="channel.analytics_export", principal=principal,
        object_type="channel_referral",
        detail={"dimensions": list(spec.dimensions), "measures": list(spec.measures),
                "filters": detail, "count": book.count, "truncated": book.truncated})
    stamp = beijing_stamp()
    return attachment(book.content, media_type=XLSX_MEDIA_TYPE,
                      filename=f"渠道多维查询-{stamp}.xlsx",
                      ascii_filename=f"channel-query-{stamp}.xlsx", truncated=book.truncated)
