"""Units imported from XLSX: all rows or none, each error with its row, column, code and
Chinese message; forged, oversized and foreign-project uploads refused."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cloud.inventory import importing
from cloud.inventory.models import Building, Unit
from cloud.settings import CloudSettings
from tests.cloud import audit_rows, problem, signed_in
from tests.cloud.inventory_world import sheet, tower
from tests.cloud.sales_world import build_world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client: TestClient, headers: dict[str, str], project_id: int, data: bytes,
            name: str = "房源.xlsx") -> Any:
    return client.post(f"/api/v1/inventory/projects/{project_id}/import", headers=headers,
                       files={"file": (name, data, XLSX)})


def test_a_clean_sheet_is_imported_with_money_in_fen(
        client: TestClient, db: Session, settings: CloudSettings) -> None:
    world = build_world(db, settings)
    manager = signed_in(client, "manager_a")
    rows = [*tower("1号楼", floors=2, per_floor=2),
            ["2号楼", -1, "B101", "车位", "12.35", "150,000.50", 120000]]
    answer = _upload(client, manager, world["site-a"].project_id, sheet(rows))
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"buildings_created": 2, "units_created": 5}
    db.rollback()
    stored = db.exec(select(Unit).where(Unit.room == "B101")).one()
    assert (stored.floor, stored.area_centi, stored.list_price_fen, stored.floor_price_fen,
            stored.state) == (-1, 1235, 15_000_050, 12_000_000, "unreleased")
    first = db.exec(select(Unit).where(Unit.room == "101")).one()
    assert (first.area_centi, first.list_price_fen) == (9050, 151_000_000)
    assert [r.detail["units"] for r in audit_rows(db, "unit.import")] == [5]


def test_row_errors_are_reported_and_nothing_is_imported(
        client: TestClient, db: Session, settings: CloudSettings) -> None:
    world = build_world(db, settings)
    manager = signed_in(client, "manager_a")
    project_id = world["site-a"].project_id
    assert _upload(client, manager, project_id,
                   sheet(tower("1号楼", floors=1, per_floor=1))).status_code == 201
    rows = [
        ["1号楼", 2, "201", "两室", 80, 1000000, 900000],  # row 2: fine
        ["1号楼", "二", "202", "两室", 80, 1000000, 900000],  # row 3: floor
        ["1号楼", 2, "203", "", -5, "abc", 900000],  # row 4: layout, area, price
        ["1号楼", 2, "204", "两室", 80, 1000000, 1100000],  # row 5: floor price above list
        ["1号楼", 2, "201", "两室", 80, 1000000, 900000],  # row 6: repeats row 2
        ["1号楼", 1, "101", "两室", 80, 1000000, 900000],  # row 7: already imported
        ["1号楼", 2, "205", "两室", 80.123, 1000000.001, 900000],  # row 8: 3 decimals
    ]
    answer = _upload(client, manager, project_id, sheet(rows))
    assert answer.status_code == 422
    body = problem(answer)
    assert body["code"] == "import_rejected"
    found = {(e["row"], e["column"], e["code"]) for e in body["errors"]}
    assert found == {
        (3, "楼层", "invalid_floor"), (4, "户型", "missing_value"),
        (4, "建筑面积", "invalid_area"), (4, "表价", "invalid_price"),
        (5, "底价", "floor_price_above_list"), (6, "房号", "duplicate_in_file"),
        (7, "房号", "unit_exists"), (8, "建筑面积", "invalid_area"), (8, "表价", "invalid_price"),
    }
    assert body["error_count"] == len(found)
    assert all("\u4e00" <= e["message"][0] <= "\u9fff" or "「" in e["message"]
               for e in body["errors"])
    db.rollback()
    assert [u.room for u in db.exec(select(Unit)).all()] == ["101"]


def test_missing_columns_are_named(client: TestClient, db: Session,
                                   settings: CloudSettings) -> None:
    world = build_world(db, settings)
    answer = _upload(client, signed_in(client, "manager_a"), world["site-a"].project_id,
                     sheet([["1号楼", 1, "101"]], header=("楼栋", "楼层", "房号")))
    body = problem(answer)
    assert {(e["row"], e["column"], e["code"]) for e in body["errors"]} == {
        (1, c, "column_missing") for c in ("户型", "建筑面积", "表价", "底价")}


def test_forged_and_oversized_files_are_refused(client: TestClient, db: Session,
                                                settings: CloudSettings) -> None:
    world = build_world(db, settings)
    manager = signed_in(client, "manager_a")
    project_id = world["site-a"].project_id
    forged = _upload(client, manager, project_id, b"<?php echo 1; ?>" * 10, name="x.xlsx")
    assert (forged.status_code, problem(forged)["code"]) == (422, "import_unreadable")
    # A zip that is no workbook, and one that would unpack to far more than it weighs.
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("hello.txt", "不是工作簿")
    assert problem(_upload(client, manager, project_id, plain.getvalue()))["code"] == (
        "import_unreadable")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    refused = _upload(client, manager, project_id, bomb.getvalue())
    assert (refused.status_code, problem(refused)["code"]) == (413, "import_too_large")
    huge = _upload(client, manager, project_id, b"0" * (3 * 1024 * 1024))
    assert (huge.status_code, problem(huge)["code"]) == (413, "import_too_large")
    db.rollback()
    assert db.exec(select(Building)).all() == []


def test_another_sites_project_and_a_consultant_are_refused(
        client: TestClient, db: Session, settings: CloudSettings) -> None:
    world = build_world(db, settings)
    data = sheet(tower())
    other = _upload(client, signed_in(client, "manager_a"), world["site-b"].project_id, data)
    assert (other.status_code, problem(other)["code"]) == (404, "project_not_found")
    consultant = _upload(client, signed_in(client, "consult_a"), world["site-a"].project_id,
                         data)
    assert consultant.status_code == 403
    db.rollback()
    assert db.exec(select(Unit)).all() == []


def test_too_many_rows_are_refused() -> None:
    many = [row for b in range(importing.MAX_ROWS // 100 + 1)
            for row in tower(f"{b}号楼", floors=10, per_floor=10)]
    rows = importing.parse(sheet(many))
    assert [(e.row, e.code) for e in rows.errors] == [(importing.MAX_ROWS + 2, "too_many_rows")]
