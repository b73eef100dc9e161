"""The spreadsheet cells every export writes: text never runs as a formula or turns into
an error value, control characters cannot break the file, dates stay dates."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from cloud.downloads import XlsxBook, neutralise


def test_text_cells_are_inert_and_dates_keep_their_type() -> None:
    book = XlsxBook()
    sheet = book.sheet("表", (10, 10))
    sheet.header(("值", "时间"))
    hostile = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "#N/A", "三房\x01\x1f", "普通"]
    for text in hostile:
        sheet.row((text, None))
    sheet.row((datetime(2026, 11, 28, 0, 5), date(2026, 11, 28)))
    rows = list(load_workbook(io.BytesIO(book.to_bytes()))["表"].iter_rows(min_row=2))

    assert [(r[0].value, r[0].data_type) for r in rows[:-1]] == [
        ("'=1+1", "s"), ("'+SUM(A1)", "s"), ("'-2+3", "s"), ("'@cmd", "s"), ("#N/A", "s"),
        ("三房", "s"), ("普通", "s")]
    assert rows[-1][0].value == datetime(2026, 11, 28, 0, 5) and rows[-1][0].is_date
    assert rows[-1][1].value == datetime(2026, 11, 28) and rows[-1][1].number_format == "yyyy-mm-dd"


def test_neutralise_leaves_ordinary_text_alone() -> None:
    assert neutralise("138****5678") == "138****5678"
    assert neutralise("\tx") == "'\tx"
