"""The per-project inventory row: its grid version and settings."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from cloud.inventory.models import InventoryProject
from cloud.inventory.states import DEFAULT_COLOURS


def row(session: Session, project_id: int) -> InventoryProject:
    """The project's row, made on first use (two first uses at once: one insert wins, the
    other reads it)."""
    found = session.get(InventoryProject, project_id)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = InventoryProject(project_id=project_id, colours=dict(DEFAULT_COLOURS))
            session.add(found)
    except IntegrityError:
        found = session.get(InventoryProject, project_id, populate_existing=True)
        assert found is not None
    return found


def bump(session: Session, project_id: int) -> None:
    """A unit of the project changed: the grid's version moves (its ETag with it). The row
    lock this takes also orders the project's writers until they commit."""
    row(session, project_id)
    session.execute(update(InventoryProject)
                    .where(col(InventoryProject.project_id) == project_id)
                    .values(version=InventoryProject.version + 1))


def colours(stored: InventoryProject) -> dict[str, str]:
    return {**DEFAULT_COLOURS, **{k: str(v) for k, v in stored.colours.items()}}
