"""Project profiles (项目资料) for brokers: district, price band, layouts and cooperation
terms, edited by channel staff of the project's sites; every change is audited."""

from __future__ import annotations

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel.errors import ProjectNotFound
from cloud.channel.listing_models import ProjectProfile
from cloud.channel.listing_schemas import ProfileIn, ProfileOut
from cloud.identity.deps import Principal
from shared.timeutil import utcnow

_FIELDS = ("district", "price_min_yuan", "price_max_yuan", "layouts", "cooperation")


def read(session: Session, project_id: int) -> ProfileOut:
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound()
    return out(project, session.get(ProjectProfile, project_id))


def out(project: Project, profile: ProjectProfile | None) -> ProfileOut:
    blank = ProjectProfile(project_id=project.id or 0)
    shown = profile or blank
    return ProfileOut(project_id=project.id or 0, project_name=project.name,
                      **{f: getattr(shown, f) for f in _FIELDS},
                      updated_at=profile.updated_at if profile else None)


def write(session: Session, *, principal: Principal, project_id: int,
          data: ProfileIn) -> ProfileOut:
    project = session.get(Project, project_id, with_for_update=True)
    if project is None:
        raise ProjectNotFound()
    profile = session.get(ProjectProfile, project_id)
    if profile is None:
        profile = ProjectProfile(project_id=project_id)
        session.add(profile)
    changed = sorted(f for f in _FIELDS if getattr(profile, f) != getattr(data, f))
    for field in _FIELDS:
        setattr(profile, field, getattr(data, field))
    profile.updated_by = principal.user_id
    profile.updated_at = utcnow()
    session.flush()
    # The cooperation terms are what a broker is paid by: record what they became.
    audit_service.record(session, action="channel.profile_update", principal=principal,
                         object_type="project", object_id=str(project_id),
                         detail={"changed": changed, "district": data.district,
                                 "price_min_yuan": data.price_min_yuan,
                                 "price_max_yuan": data.price_max_yuan,
                                 "cooperation": data.cooperation[:500]})
    return out(project, profile)
