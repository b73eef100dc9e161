"""File downloads the console offers (CSV, XLSX): cells that cannot run as formulas, the
row cap, Beijing-time file names and the attachment response.

Every export is audited by its route; this module only shapes the file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from shared.timeutil import SHANGHAI, as_utc, utcnow

EXPORT_MAX_ROWS = 50_000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BEIJING_FORMAT = "%Y-%m-%d %H:%M:%S"

# Excel runs a cell starting with these as a formula (CSV, or an XLSX cell once edited);
# names, notes and login names are typed by people outside our control.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CellValue = str | int | bool | datetime | date | None


def neutralise(text: str) -> str:
    """The text, with a leading apostrophe when Excel would read it as a formula."""
    return ("'" + text) if text.startswith(_FORMULA_START) else text


def beijing(value: datetime) -> datetime:
    """A stored UTC time as Beijing wall-clock time (XLSX cells carry no zone)."""
    return as_utc(value).astimezone(SHANGHAI).replace(tzinfo=None)


def beijing_text(value: datetime) -> str:
    return beijing(value).strftime(BEIJING_FORMAT)


def beijing_stamp() -> str:
    """`20261125-143000`: the export's moment in Beijing time, for file names."""
    return utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")


class XlsxSheet:
    """One sheet of a write-only workbook: rows stream out, memory stays flat."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
        self._sheet = sheet
        # The stubs miss the write-only sheet's column_dimensions; it has them at run time.
        columns = sheet.column_dimensions  # type: ignore[attr-defined]
        for index, width in enumerate(widths, start=1):
            columns[get_column_letter(index)].width = width

    def header(self, titles: Sequence[str]) -> None:
        bold = Font(bold=True)
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self._sheet, value=title)
            cell.font = bold
            cells.append(cell)
        self._sheet.append(cells)

    def row(self, values: Iterable[CellValue]) -> None:
        # Plain values, not cell objects: openpyxl writes them about ten times faster,
        # and gives dates and times their date formats by itself.
        self._sheet.append([self._value(v) for v in values])

    def _value(self, value: CellValue) -> CellValue | Cell:
        if not isinstance(value, str):
            return value
        # Control characters are not allowed in XLSX; a note typed on a kiosk may hold one.
        text = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        if text not in ERROR_CODES:
            return text  # after neutralise() openpyxl cannot take it for a formula
        cell = WriteOnlyCell(self._sheet, value=text)
        cell.data_type = "s"  # "#N/A" typed by a person is text, not an error value
        return cell


class XlsxBook:
    def __init__(self) -> None:
        self._book = Workbook(write_only=True)

    def sheet(self, title: str, widths: Sequence[int] = ()) -> XlsxSheet:
        return XlsxSheet(self._book.create_sheet(title), widths)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()


def attachment(
    content: bytes, *, media_type: str, filename: str, ascii_filename: str, truncated: bool
) -> Response:
    """The file as a download: an ASCII name for old clients, the Chinese one (RFC 5987)
    for the rest, and X-Export-Truncated telling whether the row cap cut it."""
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_filename}\"; "
                f"filename*=UTF-8''{quote(filename)}"
            ),
            "X-Export-Truncated": "true" if truncated else "false",
        },
    )
