"""销售分析 as an Excel workbook (cloud/downloads.py: formula-safe cells): the figures and
the funnel of one window, a row per group and the total, and a notes sheet with who,
when, the window and the definitions. No personal data: group names and counts."""

from __future__ import annotations

from typing import Any

from cloud.downloads import XlsxBook, beijing_text
from cloud.identity.deps import Principal
from cloud.sales.analysis import Window
from cloud.sales.analysis_labels import DIMENSION_NAMES
from shared.timeutil import utcnow

FIGURE_COLUMNS = (
    ("visits", "到访组数"), ("first_visits", "首访"), ("return_visits", "复访"),
    ("call_visits", "来电到访"), ("calls", "来电组数"), ("call_to_visit", "来电转来访"),
    ("pledges", "认筹"), ("subscriptions", "认购"), ("subscription_amount_fen", "认购金额（元）"),
    ("visit_to_deal", "来访转成交"), ("contracts", "签约"),
    ("contract_amount_fen", "签约金额（元）"), ("returns", "退房"), ("swaps", "换房"),
    ("net_contracts", "净签约"), ("net_contract_amount_fen", "净签约金额（元）"))
FUNNEL_COLUMNS = (("stored", "储客"), ("followed", "跟客"), ("bought", "成交"),
                  ("follow_rate", "跟客率"), ("deal_rate", "成交率"))
NOTES = (
    "到访组数：同一客户同一天为一组；来访转成交 = 认购 ÷ 到访组数；"
    "来电转来访 = 到访组数 ÷ 来电组数（来电登记；按产品、渠道分组时无来电维度）；"
    "义务接待当日成交的认购，按顾问统计时接待者与归属顾问分成（默认各 0.5）；"
    "净签约 = 签约 − 退房 + 换房（本系统换房不关闭签约单，故等于 签约 − 退房）；"
    "储客：首访在日期内的客户，跟客：其中有有效跟进、复访或成交，成交：其中有审批通过的认购。"
    "日期按北京时间；认筹、认购、签约按审批通过时间，退房、换房按变更批准时间。")


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return "—"
    if name.endswith("_fen"):
        return round(value / 100, 2)
    if isinstance(value, float):
        return f"{value * 100:.1f}%"
    return value


def _table(book: XlsxBook, title: str, group: str, columns: tuple[tuple[str, str], ...],
           answer: dict[str, Any]) -> None:
    sheet = book.sheet(title, (20, *(12 for _ in columns)))
    sheet.header((group, *(t for _, t in columns)))
    for row in [*answer["items"], answer["total"]]:
        sheet.row((row["label"], *(_cell(n, row[n]) for n, _ in columns)))


def xlsx(figures: dict[str, Any], funnel: dict[str, Any], *, window: Window,
         principal: Principal) -> bytes:
    book = XlsxBook()
    group = DIMENSION_NAMES.get(window.group_by or "", "合计")
    _table(book, "销售指标", group, FIGURE_COLUMNS, figures)
    _table(book, "客户漏斗", group, FUNNEL_COLUMNS, funnel)
    notes = book.sheet("导出说明", (18, 80))
    notes.header(("项目", "内容"))
    for line in (
        ("导出人", f"{principal.display_name}（{principal.username}）"),
        ("导出时间（北京时间）", beijing_text(utcnow())),
        ("日期（北京时间）", f"{window.date_from.isoformat()} 至 {window.date_to.isoformat()}"),
        ("项目", str(window.scope.project_id) if window.scope.project_id else "可见的全部项目"),
        ("分组", group),
        ("口径", NOTES),
    ):
        notes.row(line)
    return book.to_bytes()
