"""Release batches (推盘): the first opening and each 加推 put units on sale."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.identity.principal import Principal
from cloud.inventory import scope, transitions
from cloud.inventory.errors import BatchNameTaken, BatchUnitsInvalid
from cloud.inventory.models import ReleaseBatch, Unit
from cloud.inventory.states import Action, State

MAX_BATCH_UNITS = 5000


def release(session: Session, principal: Principal, *, project_id: int, name: str,
            kind: str, unit_ids: Sequence[int]) -> ReleaseBatch:
    """All the named units, unreleased and of this project, go on sale together, or none."""
    scope.project(session, principal, project_id)
    wanted = sorted(set(unit_ids))
    # Locked in id order, so two batches naming the same units queue instead of deadlocking.
    units = list(session.exec(select(Unit).where(col(Unit.id).in_(wanted))
                              .order_by(col(Unit.id)).with_for_update()).all())
    if not wanted or len(units) != len(wanted) or any(
            u.project_id != project_id or u.state != State.UNRELEASED for u in units):
        raise BatchUnitsInvalid()
    batch = ReleaseBatch(project_id=project_id, name=name.strip(), kind=kind,
                         unit_count=len(units), released_by=principal.user_id)
    try:
        with session.begin_nested():
            session.add(batch)
    except IntegrityError:
        raise BatchNameTaken() from None
    for unit in units:
        transitions.apply(session, unit, transitions.Move(Action.RELEASE, batch.name),
                          principal=principal, audit=False)
        unit.batch_id = batch.id
        session.add(unit)
    # One audit row names the batch and its units; each unit has its 销控 log row.
    audit_service.record(session, action="release_batch.create", principal=principal,
                         object_type="release_batch", object_id=str(batch.id), detail={
                             "project_id": project_id, "name": batch.name, "kind": kind,
                             "unit_ids": wanted})
    session.flush()
    return batch


def listing(session: Session, principal: Principal, project_id: int) -> list[ReleaseBatch]:
    scope.project(session, principal, project_id)
    return list(session.exec(select(ReleaseBatch).where(ReleaseBatch.project_id == project_id)
                             .order_by(col(ReleaseBatch.id))).all())
