"""Routes of 渠道业绩 (funnel, trend, rankings) and 多维查询 (query, export, its fields).

Every count is over the referrals in the caller's scope (analytics.scope); naming a
project or agency outside it only narrows to nothing."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

from cloud.audit import service as audit_service
from cloud.channel import analytics, analytics_export, analytics_reports
from cloud.channel.analytics_fields import DIMENSIONS, MEASURES
from cloud.channel.analytics_schemas import (
    FieldOut,
    FieldsOut,
    Granularity,
    Group,
    PerformanceOut,
    QueryIn,
    QueryOut,
    RankBy,
    RankingOut,
    Subject,
)
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


def _spec(body: QueryIn, *, offset: int, limit: int) -> analytics.Spec:
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
    spec = _spec(body, offset=(body.page - 1) * body.page_size, limit=body.page_size)
    table = analytics.run(session, principal, spec)
    return QueryOut.model_validate({
        "columns": analytics_export.columns(table),
        "items": analytics_export.labelled(session, table), "total": table.total,
        "page": body.page, "page_size": body.page_size,
        "needs": analytics_reports.needs()})


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
