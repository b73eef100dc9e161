"""Sites and projects."""

from __future__ import annotations

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project, Site
from cloud.identity.deps import Principal
from shared.envelope import valid_site_id
from shared.errors import Conflict, NotFound, ValidationFailed


def list_sites(session: Session, *, principal: Principal) -> list[Site]:
    query = select(Site).order_by(col(Site.id))
    if principal.site_ids is not None:
        query = query.where(col(Site.id).in_(principal.site_ids))
    return list(session.exec(query).all())


def get_site(session: Session, *, principal: Principal, site_id: str) -> Site:
    site = session.get(Site, site_id)
    if site is None or not principal.sees_site(site_id):
        raise NotFound("案场不存在或不在您的数据范围内", code="site_not_found")
    return site


def create_site(session: Session, *, principal: Principal | None, site_id: str, name: str,
                actor: str | None = None) -> Site:
    if not valid_site_id(site_id):
        raise ValidationFailed(
            "案场代码只能包含小写字母、数字和连字符，2–32 位，以字母或数字开头",
            code="invalid_site_id",
        )
    if session.get(Site, site_id) is not None:
        raise Conflict("案场代码已存在", code="site_exists")
    site = Site(id=site_id, name=name)
    session.add(site)
    session.flush()
    audit_service.record(session, action="site.create", principal=principal, actor=actor,
                         ip=principal.ip if principal else None, object_type="site",
                         object_id=site_id, detail={"name": name})
    return site


def list_projects(session: Session, *, principal: Principal, site_id: str | None) -> list[Project]:
    query = select(Project).order_by(col(Project.id))
    if principal.site_ids is not None:
        query = query.where(col(Project.site_id).in_(principal.site_ids))
    if site_id:
        query = query.where(Project.site_id == site_id)
    return list(session.exec(query).all())


def create_project(session: Session, *, principal: Principal | None, site_id: str, name: str,
                   city: str = "", actor: str | None = None) -> Project:
    if session.get(Site, site_id) is None:
        raise NotFound("案场不存在", code="site_not_found")
    project = Project(site_id=site_id, name=name, city=city)
    session.add(project)
    session.flush()
    audit_service.record(session, action="project.create", principal=principal, actor=actor,
                         ip=principal.ip if principal else None, object_type="project",
                         object_id=str(project.id), detail={"site_id": site_id, "name": name})
    return project
