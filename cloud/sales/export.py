"""The visit list as an Excel workbook: what the console's table shows, masked as it is
there (phone 138****5678, name 张*), times in Beijing time, at most EXPORT_MAX_ROWS rows.

The route audits every export (`visit.export`) with its filters and row count.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.catalog.models import Project, Site
from cloud.downloads import EXPORT_MAX_ROWS, XlsxBook, beijing, beijing_text
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.sales import service, visits
from cloud.sales.free_text import intent_of
from cloud.settings import CloudSettings
from shared.timeutil import utcnow

SHEET = "到访记录"
NOTES_SHEET = "导出说明"
HEADER = ("到访时间（北京时间）", "到访日期", "案场", "项目", "客户", "手机号", "首访/复访",
          "置业顾问", "人数", "来源", "意向", "设备时钟已校正")
WIDTHS = (21, 12, 20, 18, 10, 14, 10, 12, 6, 10, 30, 14)
SOURCE_NAMES = {
    "natural": "自然到访",
    "channel": "渠道带看",
    "referral_old_customer": "老带新",
    "online": "线上预约",
    "other": "其他",
}
FILTER_NAMES = {
    "site_id": "案场", "project_id": "项目", "date_from": "到访日期起", "date_to": "到访日期止",
    "phone": "手机号", "customer_id": "客户编号", "consultant_id": "置业顾问",
    "first_visit": "首访/复访",
}


@dataclass(frozen=True)
class VisitExport:
    content: bytes
    count: int
    truncated: bool


def build(
    session: Session, *, settings: CloudSettings, principal: Principal,
    filters: visits.VisitFilter, max_rows: int = EXPORT_MAX_ROWS,
) -> VisitExport:
    sites = dict(session.exec(select(Site.id, Site.name)).all())
    projects = dict(session.exec(select(Project.id, Project.name)).all())
    book = XlsxBook()
    sheet = book.sheet(SHEET, WIDTHS)
    sheet.header(HEADER)
    count = 0
    truncated = False
    for visit, customer, consultant in visits.iter_rows(
        session, principal=principal, filters=filters, max_rows=max_rows + 1,
    ):
        if count == max_rows:
            truncated = True
            break
        sheet.row((
            beijing(visit.occurred_at), visit.visit_date,
            sites.get(visit.site_id, visit.site_id),
            projects.get(visit.project_id, str(visit.project_id)),
            service.masked_name(settings, customer), customer.phone_masked,
            "首访" if visit.is_first_visit else "复访", consultant, visit.party_size,
            SOURCE_NAMES.get(visit.source, visit.source), intent_of(settings, visit),
            "是" if visit.time_corrected else "否",
        ))
        count += 1
    notes = book.sheet(NOTES_SHEET, (18, 60))
    notes.header(("项目", "内容"))
    for label, value in _notes(session, principal, filters, sites, projects, count, truncated,
                               max_rows):
        notes.row((label, value))
    return VisitExport(book.to_bytes(), count, truncated)


def _notes(
    session: Session, principal: Principal, filters: visits.VisitFilter,
    sites: dict[str, str], projects: dict[int | None, str], count: int, truncated: bool,
    max_rows: int,
) -> list[tuple[str, str]]:
    """Who exported what: the reader of a forwarded file sees its origin and its limits."""
    lines = [
        ("导出人", f"{principal.display_name}（{principal.username}）"),
        ("导出时间（北京时间）", beijing_text(utcnow())),
        ("记录条数", str(count)),
    ]
    if truncated:
        lines.append(("提示", f"符合条件的记录超过 {max_rows:,} 条，仅导出了最新的 "
                             f"{max_rows:,} 条；请缩小日期范围后分批导出"))
    names = _filter_values(session, filters, sites, projects)
    lines += [(f"筛选：{FILTER_NAMES[k]}", v) for k, v in names.items()] or [
        ("筛选", "无（全部数据范围）")]
    lines.append(("说明", "客户姓名与手机号已脱敏；本次导出已记入审计日志，请勿外传"))
    return lines


def _filter_values(
    session: Session, filters: visits.VisitFilter, sites: dict[str, str],
    projects: dict[int | None, str],
) -> dict[str, str]:
    values = {k: str(v) for k, v in filters.as_detail().items()}
    if filters.site_id:
        values["site_id"] = sites.get(filters.site_id, filters.site_id)
    if filters.project_id:
        values["project_id"] = projects.get(filters.project_id, str(filters.project_id))
    if filters.consultant_id:
        name = session.exec(select(User.display_name)
                            .where(col(User.id) == filters.consultant_id)).first()
        values["consultant_id"] = name or str(filters.consultant_id)
    if filters.first_visit is not None:
        values["first_visit"] = "首访" if filters.first_visit else "复访"
    return values
