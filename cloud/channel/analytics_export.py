"""A 多维查询 answer as the console shows it (keys with their Chinese names) and as an
Excel workbook (cloud/downloads.py: formula-safe cells, the row cap, a notes sheet).

No personal data is in either: names of projects, agencies, brokers and consultants, and
counts. The route audits every export (`channel.analytics_export`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from cloud.channel.analytics import Table
from cloud.channel.analytics_fields import DIMENSIONS, MEASURES
from cloud.channel.analytics_labels import labeller
from cloud.downloads import XlsxBook, beijing_text
from cloud.identity.deps import Principal
from shared.timeutil import utcnow

SHEET = "多维查询"
NOTES_SHEET = "导出说明"
NOTES = (
    "有效报备：判定为待确认、有效或已失效的报备（无效之外）；到访：判客引擎已记录客户到访；"
    "确客：当前有效的报备；判客有效：到访或成交阶段确认归属；转化率 = 判客有效 ÷ 报备数。"
    "日期按北京时间的报备日期统计。")


def columns(table: Table) -> list[dict[str, str]]:
    return ([{"key": d, "title": DIMENSIONS[d].title, "kind": "dimension"}
             for d in table.dimensions]
            + [{"key": m, "title": MEASURES[m].title, "kind": "measure"}
               for m in table.measures])


def labelled(session: Session, table: Table) -> list[dict[str, Any]]:
    """The rows with `<dimension>_label` beside each key."""
    labels = {d: labeller(session, d, (r[d] for r in table.rows)) for d in table.dimensions}
    return [{**row, **{f"{d}_label": labels[d](row[d]) for d in table.dimensions}}
            for row in table.rows]


@dataclass(frozen=True)
class Workbook:
    content: bytes
    count: int
    truncated: bool


def xlsx(rows: list[dict[str, Any]], table: Table, *, principal: Principal,
         filters: dict[str, Any], max_rows: int) -> Workbook:
    book = XlsxBook()
    cols = columns(table)
    sheet = book.sheet(SHEET, [22 if c["kind"] == "dimension" else 12 for c in cols])
    sheet.header([c["title"] for c in cols])
    for row in rows[:max_rows]:
        sheet.row([_cell(row, c) for c in cols])
    truncated = table.total > max_rows
    notes = book.sheet(NOTES_SHEET, (18, 80))
    notes.header(("项目", "内容"))
    for line in (
        ("导出人", f"{principal.display_name}（{principal.username}）"),
        ("导出时间（北京时间）", beijing_text(utcnow())),
        ("行数", str(min(len(rows), max_rows))),
        ("维度", "、".join(DIMENSIONS[d].title for d in table.dimensions) or "（合计）"),
        ("指标", "、".join(MEASURES[m].title for m in table.measures)),
        ("筛选", _filters_text(filters)),
        ("口径", NOTES),
        *((("提示", f"分组超过 {max_rows:,} 行，仅导出前 {max_rows:,} 行"),) if truncated else ()),
    ):
        notes.row(line)
    return Workbook(book.to_bytes(), min(len(rows), max_rows), truncated)


def _cell(row: dict[str, Any], column: dict[str, str]) -> Any:
    key = column["key"]
    if column["kind"] == "dimension":
        return row[f"{key}_label"]
    value = row[key]
    return value if value is not None else ""


def _filters_text(filters: dict[str, Any]) -> str:
    return "；".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                    for k, v in filters.items())
