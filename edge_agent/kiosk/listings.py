"""What the kiosk lists: today's visits, the consultants who may receive, the projects."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.rota import service as rota_service
from edge_agent.store import Store
from edge_agent.store.models.reception import Visit
from edge_agent.store.models.site import Consultant, Project
from shared.timeutil import shanghai_date, utcnow


async def _visits_on(session: AsyncSession, day: str, project_id: int | None) -> list[Visit]:
    query = select(Visit).where(Visit.visit_date == day)
    if project_id is not None:
        query = query.where(Visit.project_id == project_id)
    return list((await session.exec(query.order_by(col(Visit.occurred_at).desc()))).all())


async def visits_on_day(
    store: Store, *, now: datetime | None = None, project_id: int | None = None
) -> list[Visit]:
    """Visits of the Asia/Shanghai day containing `now`, newest first."""
    return await store.read(_visits_on, shanghai_date(now or utcnow()).isoformat(), project_id)


async def _receivers(session: AsyncSession) -> list[Consultant]:
    return list((await rota_service.rota_consultants(session)).values())


async def receiving_consultants(store: Store) -> list[Consultant]:
    """Who the kiosk may pick to receive a walk-in: the rota's members, by id."""
    return await store.read(_receivers)


async def _active_projects(session: AsyncSession) -> list[Project]:
    query = select(Project).where(col(Project.active).is_(True)).order_by(col(Project.id))
    return list((await session.exec(query)).all())


async def active_projects(store: Store) -> list[Project]:
    """The projects this office registers visits for (from the cloud's down-feed)."""
    return await store.read(_active_projects)
