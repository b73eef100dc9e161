"""Units imported from an XLSX sheet: every row checked first, then all saved or none.

The sheet's first row names the columns (in any order); each later row is one unit.
Errors name the sheet row (as Excel numbers it), the column, a stable code and a Chinese
message, so the office fixes the file and uploads it again.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.identity.principal import Principal
from cloud.inventory import project_state, scope
from cloud.inventory.errors import ImportRejected, ImportTooLarge, ImportUnreadable
from cloud.inventory.models import Building, Unit

MAX_FILE_BYTES = 2 * 1024 * 1024
# A forged file may inflate far past its size (a zip bomb); openpyxl is never handed one.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS = 200
MAX_FLOOR, MIN_FLOOR = 200, -10
MAX_AREA_CENTI = 100_000 * 100  # 100,000 m²
MAX_PRICE_FEN = 10**15  # above any real flat; fits bigint

# Header text → field.
COLUMNS = {"楼栋": "building", "楼层": "floor", "房号": "room", "户型": "layout",
           "建筑面积": "area", "表价": "list_price", "底价": "floor_price"}
_LIMITS = {"building": 50, "room": 20, "layout": 30}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    code: str
    message: str


@dataclass
class _Rows:
    units: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def fail(self, row: int, column: str, code: str, message: str) -> None:
        self.errors.append(RowError(row, column, code, message))


@dataclass(frozen=True)
class Imported:
    buildings_created: int
    units_created: int


def import_units(session: Session, principal: Principal, *, project_id: int,
                 data: bytes) -> Imported:
    scope.project(session, principal, project_id)
    rows = parse(data)
    _check_against_stored(session, project_id, rows)
    if rows.errors:
        raise ImportRejected(extra={"errors": [e.__dict__ for e in rows.errors[:MAX_ERRORS]],
                                    "error_count": len(rows.errors)})
    buildings = {b.name: b for b in session.exec(
        select(Building).where(Building.project_id == project_id)).all()}
    created = 0
    for name in sorted({u["building"] for u in rows.units} - buildings.keys()):
        buildings[name] = Building(project_id=project_id, name=name)
        session.add(buildings[name])
        created += 1
    session.flush()
    session.add_all([Unit(project_id=project_id, building_id=buildings[u["building"]].id or 0,
                          floor=u["floor"], room=u["room"], layout=u["layout"],
                          area_centi=u["area"], list_price_fen=u["list_price"],
                          floor_price_fen=u["floor_price"]) for u in rows.units])
    project_state.bump(session, project_id)
    audit_service.record(session, action="unit.import", principal=principal,
                         object_type="project", object_id=str(project_id),
                         detail={"buildings": created, "units": len(rows.units)})
    session.flush()
    return Imported(created, len(rows.units))


def parse(data: bytes) -> _Rows:
    if len(data) > MAX_FILE_BYTES:
        raise ImportTooLarge(f"文件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ImportTooLarge("文件解压后过大，请检查文件")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportTooLarge:
        raise
    except Exception:  # openpyxl raises many kinds on a forged or foreign file
        raise ImportUnreadable() from None
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = next(lines, None)
        rows = _Rows()
        positions = _header(header, rows)
        if rows.errors:
            return rows
        seen: dict[tuple[str, str], int] = {}
        counted = 0
        for number, values in enumerate(lines, start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            counted += 1
            if counted > MAX_ROWS:
                rows.fail(number, "", "too_many_rows", f"一次最多导入 {MAX_ROWS} 行")
                break
            _row(number, values, positions, rows, seen)
        return rows
    finally:
        book.close()


def _header(header: tuple[Any, ...] | None, rows: _Rows) -> dict[str, int]:
    names = [str(v).strip() if v is not None else "" for v in (header or ())]
    positions = {COLUMNS[n]: i for i, n in enumerate(names) if n in COLUMNS}
    for text, key in COLUMNS.items():
        if key not in positions:
            rows.fail(1, text, "column_missing", f"缺少列「{text}」")
    return positions


def _row(number: int, values: tuple[Any, ...], positions: dict[str, int], rows: _Rows,
         seen: dict[tuple[str, str], int]) -> None:
    def cell(key: str) -> Any:
        index = positions[key]
        return values[index] if index < len(values) else None

    before = len(rows.errors)
    found: dict[str, Any] = {}
    names = {v: k for k, v in COLUMNS.items()}
    for key, limit in _LIMITS.items():
        text = _text(cell(key))
        if not text:
            rows.fail(number, names[key], "missing_value", f"「{names[key]}」不能为空")
        elif len(text) > limit:
            rows.fail(number, names[key], "too_long", f"「{names[key]}」最多 {limit} 个字")
        found[key] = text
    found["floor"] = _integer(cell("floor"))
    if found["floor"] is None or not MIN_FLOOR <= found["floor"] <= MAX_FLOOR:
        rows.fail(number, "楼层", "invalid_floor", f"楼层须为 {MIN_FLOOR} 到 {MAX_FLOOR} 的整数")
    found["area"] = _hundredths(cell("area"))
    if found["area"] is None or not 0 < found["area"] <= MAX_AREA_CENTI:
        rows.fail(number, "建筑面积", "invalid_area",
                  "建筑面积须为大于 0 的数字（平方米，最多两位小数）")
    for key in ("list_price", "floor_price"):
        found[key] = _hundredths(cell(key))
        if found[key] is None or not 0 <= found[key] <= MAX_PRICE_FEN:
            rows.fail(number, names[key], "invalid_price",
                      f"「{names[key]}」须为不小于 0 的金额（元，最多两位小数）")
    if len(rows.errors) > before:
        return
    if found["floor_price"] > found["list_price"]:
        rows.fail(number, "底价", "floor_price_above_list", "底价不能高于表价")
        return
    place = (found["building"], found["room"])
    if place in seen:
        rows.fail(number, "房号", "duplicate_in_file",
                  f"与第 {seen[place]} 行重复（同一楼栋的房号只能出现一次）")
        return
    seen[place] = number
    found["row"] = number
    rows.units.append(found)


def _check_against_stored(session: Session, project_id: int, rows: _Rows) -> None:
    """A unit already in the project is refused, never overwritten: its state and deals
    belong to it."""
    if not rows.units:
        if not rows.errors:
            rows.fail(2, "", "no_rows", "文件中没有房源数据")
        return
    stored = {(name, room) for name, room in session.exec(
        select(Building.name, Unit.room).join(Unit, col(Unit.building_id) == Building.id)
        .where(Building.project_id == project_id)).all()}
    for unit in rows.units:
        if (unit["building"], unit["room"]) in stored:
            rows.fail(unit["row"], "房号", "unit_exists", "该楼栋已有此房号，不能重复导入")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _integer(value: Any) -> int | None:
    number = _decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def _hundredths(value: Any) -> int | None:
    """Yuan or m² with at most two decimals, as an integer of hundredths."""
    number = _decimal(value)
    if number is None:
        return None
    scaled = number * 100
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    # A float cell (89.5 stored as 89.49999…) is read through its shortest repr by str().
    return number if number.is_finite() else None
