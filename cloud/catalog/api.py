from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cloud.catalog import service
from cloud.catalog.schemas import ProjectCreate, ProjectPublic, SiteCreate, SitePublic
from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter

router = DomainRouter(tags=["catalog 案场与项目"])

SiteReader = Annotated[Principal, Depends(authorize(Perm.SITE_READ))]
SiteManager = Annotated[Principal, Depends(authorize(Perm.SITE_MANAGE))]
ProjectReader = Annotated[Principal, Depends(authorize(Perm.PROJECT_READ))]


@router.get("/sites", response_model=list[SitePublic])
def list_sites(session: SessionDep, principal: SiteReader) -> list[SitePublic]:
    return [SitePublic.model_validate(s, from_attributes=True)
            for s in service.list_sites(session, principal=principal)]


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(body: SiteCreate, session: SessionDep, principal: SiteManager) -> SitePublic:
    site = service.create_site(session, principal=principal, site_id=body.id, name=body.name)
    return SitePublic.model_validate(site, from_attributes=True)


@router.get("/projects", response_model=list[ProjectPublic])
def list_projects(session: SessionDep, principal: ProjectReader,
                  site_id: str | None = None) -> list[ProjectPublic]:
    return [ProjectPublic.model_validate(p, from_attributes=True)
            for p in service.list_projects(session, principal=principal, site_id=site_id)]


@router.post("/projects", response_model=ProjectPublic, status_code=201)
def create_project(body: ProjectCreate, session: SessionDep,
                   principal: SiteManager) -> ProjectPublic:
    service.get_site(session, principal=principal, site_id=body.site_id)
    project = service.create_project(session, principal=principal, site_id=body.site_id,
                                     name=body.name, city=body.city)
    return ProjectPublic.model_validate(project, from_attributes=True)
