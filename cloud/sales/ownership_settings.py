"""A project's ownership settings: read (the defaults where none were saved) and saved by
a sales manager of the project's site, audited with the values before and after.
A new value applies from the next visit or sweep; deadlines already passed stay passed."""

from __future__ import annotations

from dataclasses import asdict

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.identity.deps import Principal
from cloud.sales.ownership_models import OwnershipSetting
from cloud.sales.ownership_rules import OwnershipRules, rules_for
from shared.errors import NotFound
from shared.timeutil import utcnow


def _project(session: Session, principal: Principal, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or not principal.sees_site(project.site_id):
        raise NotFound("项目不存在或不在您的数据范围内", code="project_not_found")
    return project


def read(session: Session, *, principal: Principal, project_id: int) -> OwnershipRules:
    _project(session, principal, project_id)
    return rules_for(session, {project_id})[project_id]


def save(session: Session, *, principal: Principal, project_id: int,
         rules: OwnershipRules) -> OwnershipRules:
    _project(session, principal, project_id)
    row = session.get(OwnershipSetting, project_id, with_for_update=True)
    before = OwnershipRules.of(row) if row is not None else rules_for(
        session, {project_id})[project_id]
    if row is None:
        row = OwnershipSetting(project_id=project_id)
        session.add(row)
    for name, value in asdict(rules).items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = principal.user_id, utcnow()
    session.flush()
    audit_service.record(session, action="sales.ownership_settings", principal=principal,
                         ip=principal.ip, object_type="project", object_id=str(project_id),
                         detail={"before": asdict(before), "after": asdict(rules)})
    return rules
