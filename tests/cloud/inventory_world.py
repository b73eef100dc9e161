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


def matrix_objects(db: Session, world: dict[str, Any]) -> dict[str, dict[str, int]]:
    """For each side of the authorisation matrix: the project's units (one left
    unreleased for a batch, one to move, one to ask a hold on) and a pending hold request
    for each decision route, asked by the site's consultant."""
    from cloud.inventory import holds, releases

    found: dict[str, dict[str, int]] = {}
    for side, site, consultant in (("own", "site-a", "consult_a"),
                                   ("other", "site-b", "consult_b")):
        project_id = world[site].project_id
        manager = principal(world["hqadmin"], "sales_manager", site_ids=None)
        units = [u.id or 0 for u in load(db, manager, project_id, floors=3, per_floor=2)]
        releases.release(db, manager, project_id=project_id, name="首开",
                         kind="first_opening", unit_ids=units[1:])
        asker = principal(world[consultant], "consultant", site_ids=[site])
        pending = {name: holds.request(db, asker, holds.HoldRequest(
            unit_id=unit_id, reason="矩阵预留", days=1)).id or 0
            for name, unit_id in zip(("approve", "reject", "cancel"), units[3:], strict=True)}
        db.commit()
        found[side] = {"project": project_id, "unreleased": units[0], "move": units[1],
                       "ask": units[2], **pending}
    return found
