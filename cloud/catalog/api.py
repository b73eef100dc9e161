from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from cloud.catalog import geo, position, service
from cloud.catalog.models import Site
from cloud.catalog.schemas import (
    LatLng,
    ProjectCreate,
    ProjectPublic,
    SiteCreate,
    SitePosition,
    SitePositionIn,
    SitePublic,
)
from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter

router = DomainRouter(tags=["catalog 案场与项目"])

SiteReader = Annotated[Principal, Depends(authorize(Perm.SITE_READ))]
SiteManager = Annotated[Principal, Depends(authorize(Perm.SITE_MANAGE))]
SiteLocator = Annotated[Principal, Depends(authorize(Perm.SITE_LOCATE))]
ProjectReader = Annotated[Principal, Depends(authorize(Perm.PROJECT_READ))]
SitePath = Annotated[str, Path(min_length=2, max_length=32, description="案场代码")]


def _site_out(site: Site) -> SitePublic:
    placed = None
    if site.lat is not None and site.lng is not None:
        gcj = geo.wgs84_to_gcj02(site.lat, site.lng)
        placed = SitePosition(wgs84=LatLng(lat=site.lat, lng=site.lng),
                              gcj02=LatLng(lat=round(gcj[0], 7), lng=round(gcj[1], 7)),
                              address=site.address, set_by=site.position_set_by,
                              set_at=site.position_set_at)
    return SitePublic(id=site.id, name=site.name, is_active=site.is_active,
                      created_at=site.created_at, position=placed)


@router.get("/sites", response_model=list[SitePublic])
def list_sites(session: SessionDep, principal: SiteReader) -> list[SitePublic]:
    return [_site_out(s) for s in service.list_sites(session, principal=principal)]


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(body: SiteCreate, session: SessionDep, principal: SiteManager) -> SitePublic:
    site = service.create_site(session, principal=principal, site_id=body.id, name=body.name)
    return _site_out(site)


@router.put("/sites/{site_id}/position", response_model=SitePublic,
            summary="设置案场位置（签约地点风控以此为案场确认的带看地点；留痕）")
def put_site_position(site_id: SitePath, body: SitePositionIn, session: SessionDep,
                      principal: SiteLocator) -> SitePublic:
    site = position.set_position(session, principal=principal, site_id=site_id, lat=body.lat,
                                 lng=body.lng, datum=body.datum, address=body.address)
    return _site_out(site)


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
