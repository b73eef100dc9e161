"""`make demo`'s units: two towers imported through the XLSX importer, the first floors
released (首开), two units under 销控 and a consultant's pending 预留 request — so the
销控表, its log and the PWA's 房源 tab show something. Seeded once per project."""

from __future__ import annotations

import io

from openpyxl import Workbook
from sqlmodel import Session, col, select

from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.inventory import holds, importing, releases, scope, transitions
from cloud.inventory.models import Building, Unit
from cloud.inventory.states import Action

TOWERS = (("1号楼", 18, 4), ("2号楼", 12, 2))
LAYOUTS = ("三室两厅两卫", "两室两厅一卫", "两室两厅一卫", "四室两厅两卫")
AREAS = (12850, 8975, 8975, 14320)  # 0.01 m²


def seeded(session: Session, project_id: int) -> bool:
    return session.exec(select(Building.id).where(Building.project_id == project_id)
                        ).first() is not None


def workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(importing.COLUMNS))
    for name, floors, per_floor in TOWERS:
        for floor in range(1, floors + 1):
            for room in range(1, per_floor + 1):
                area = AREAS[room - 1]
                # 表价 rises 0.3 % a floor from 52,000 yuan/m²; 底价 is 5 % below.
                price = round(area / 100 * 52_000 * (1 + 0.003 * floor))
                sheet.append([name, floor, f"{floor}{room:02d}", LAYOUTS[room - 1],
                              area / 100, price, round(price * 0.95)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def seed(session: Session, *, project_id: int, manager: User, consultant: User) -> None:
    boss = identity_service.load_principal(session, user=manager, ip=None)
    seller = identity_service.load_principal(session, user=consultant, ip=None)
    importing.import_units(session, boss, project_id=project_id, data=workbook())
    units = session.exec(select(Unit).join(Building, col(Building.id) == Unit.building_id)
                         .where(Unit.project_id == project_id, Building.name == "1号楼",
                                col(Unit.floor) <= 10).order_by(col(Unit.id))).all()
    releases.release(session, boss, project_id=project_id, name="首开", kind="first_opening",
                     unit_ids=[u.id or 0 for u in units])
    for unit in units[:2]:
        transitions.apply(session, scope.unit(session, boss, unit.id or 0),
                          transitions.Move(Action.CONTROL, "开发商保留（样板间）"),
                          principal=boss)
    holds.request(session, seller, holds.HoldRequest(
        unit_id=units[5].id or 0, reason="陈先生周末带家人来看，拟认购", days=2))
