"""Which agencies cooperate on which project (合作渠道). A project that lists none is
open to every active agency (how a project starts); once it lists some, only their
brokers may refer to it. Individual referrers (全民营销) are not agencies: they may
refer to any project, as the developer's own marketing invites them to. A referral
checks this in its context statement (cloud.channel.referral_context).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel.errors import AgencyNotFound
from cloud.channel.models import Agency, Cooperation
from cloud.identity.deps import Principal
from shared.timeutil import utcnow


def agencies_of(session: Session, project_id: int) -> list[int]:
    return sorted(c.agency_id for c in session.exec(select(Cooperation).where(
        Cooperation.project_id == project_id)).all())


def replace(session: Session, *, principal: Principal, project_id: int,
            agency_ids: Collection[int]) -> list[int]:
    """The project's cooperating agencies become exactly `agency_ids` (none: open)."""
    wanted = set(agency_ids)
    known = set(session.exec(select(Agency.id).where(col(Agency.id).in_(wanted))).all())
    if wanted - known:
        raise AgencyNotFound()
    before = agencies_of(session, project_id)
    for row in session.exec(select(Cooperation).where(
            Cooperation.project_id == project_id,
            col(Cooperation.agency_id).not_in(wanted))).all():
        session.delete(row)
    now = utcnow()
    for agency_id in sorted(wanted - set(before)):
        session.add(Cooperation(project_id=project_id, agency_id=agency_id,
                                added_by=principal.user_id, created_at=now))
    session.flush()
    after = agencies_of(session, project_id)
    audit_service.record(session, action="channel.cooperation_update", principal=principal,
                         object_type="project", object_id=str(project_id),
                         detail={"before": before, "after": after})
    return after
