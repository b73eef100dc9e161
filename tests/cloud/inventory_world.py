"""Units for the inventory tests: an XLSX sheet builder and a small project of units."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from cloud.identity.permissions import permissions_of
from cloud.identity.principal import Principal
from cloud.inventory import importing
from cloud.inventory.models import Unit

HEADER = ("楼栋", "楼层", "房号", "户型", "建筑面积", "表价", "底价")


def sheet(rows: Iterable[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def tower(building: str = "1号楼", floors: int = 3, per_floor: int = 2) -> list[list[Any]]:
    """`floors` × `per_floor` units: rooms 101, 102, 201…; prices in yuan."""
    return [[building, f, f"{f}{r:02d}", "三室两厅", 89.5 + r, 1_500_000 + f * 10_000,
             1_400_000 + f * 10_000] for f in range(1, floors + 1)
            for r in range(1, per_floor + 1)]


def principal(user_id: int, role: str, site_ids: Iterable[str] | None = ("site-a",)
              ) -> Principal:
    return Principal(user_id=user_id, username=f"u{user_id}", display_name=role,
                     roles=frozenset({role}), permissions=permissions_of({role}),
                     site_ids=None if site_ids is None else frozenset(site_ids), ip=None)


def load(db: Session, manager: Principal, project_id: int, **kw: Any) -> list[Unit]:
    importing.import_units(db, manager, project_id=project_id, data=sheet(tower(**kw)))
    db.commit()
    return list(db.exec(select(Unit).where(Unit.project_id == project_id)
                        .order_by(col(Unit.id))).all())
