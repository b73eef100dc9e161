"""A project's deal settings (交易设置): read with the rules page's defaults where none
were saved, and saved by a sales director of the project's site, audited with the values
before and after. A new value applies from the next step it governs: deadlines already
set stay, a draft is judged stale by the age in force when the sweep runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.deals.models import DealSetting
from cloud.identity.principal import Principal
from cloud.inventory import scope as inventory_scope
from shared.timeutil import utcnow


@dataclass(frozen=True)
class DealNumbers:
    contract_days: int
    pick_hold_minutes: int
    draft_days: int
    manager_discount_pct: int
    director_discount_pct: int

    @classmethod
    def of(cls, row: DealSetting) -> DealNumbers:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


def of(session: Session, project_id: int) -> DealSetting:
    """The project's row, or an unsaved one holding the defaults."""
    return session.get(DealSetting, project_id) or DealSetting(project_id=project_id)


def read(session: Session, principal: Principal, project_id: int) -> DealSetting:
    inventory_scope.project(session, principal, project_id)
    return of(session, project_id)


def save(session: Session, principal: Principal, project_id: int,
         numbers: DealNumbers) -> DealSetting:
    inventory_scope.project(session, principal, project_id)
    row = session.get(DealSetting, project_id, with_for_update=True)
    if row is None:
        row = DealSetting(project_id=project_id)
    before = DealNumbers.of(row)
    for name, value in asdict(numbers).items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = principal.user_id, utcnow()
    session.add(row)
    session.flush()
    audit_service.record(session, action="deal.settings", principal=principal,
                         ip=principal.ip, object_type="project", object_id=str(project_id),
                         detail={"before": asdict(before), "after": asdict(numbers)})
    return row
