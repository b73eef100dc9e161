from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlmodel import col, select

from cloud.catalog.models import Site
from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.sync.models import SiteLink, SyncRejection
from shared.timeutil import UtcDateTime

router = APIRouter(prefix="/sync", tags=["sync 边缘同步"])

SyncReader = Annotated[Principal, Depends(authorize(Perm.SYNC_READ))]


class SiteSyncStatus(BaseModel):
    site_id: str
    site_name: str
    online: bool
    status_at: UtcDateTime | None
    last_applied_seq: int
    last_event_at: UtcDateTime | None
    edge_backlog: int
    edge_oldest_unacked_at: UtcDateTime | None
    gap_since: UtcDateTime | None
    gap_alarm: bool
    clock_skew_seconds: float | None
    clock_skew_alarm: bool
    agent_version: str
    down_cursor_acked: int


class RejectionPublic(BaseModel):
    id: int
    topic: str
    topic_site_id: str | None
    claimed_site_id: str | None
    reason: str
    seq: int | None
    received_at: UtcDateTime


@router.get("/sites", response_model=list[SiteSyncStatus])
def site_status(session: SessionDep, principal: SyncReader) -> list[SiteSyncStatus]:
    query = select(SiteLink, Site).join(Site, col(Site.id) == SiteLink.site_id)
    if principal.site_ids is not None:
        query = query.where(col(SiteLink.site_id).in_(principal.site_ids))
    return [
        SiteSyncStatus(site_name=site.name, **link.model_dump(exclude={"key_enc",
                       "mqtt_username", "mqtt_password_hash", "highest_seen_seq",
                       "edge_last_acked_seq", "feed_floor", "snapshot_from", "created_at"}))
        for link, site in session.exec(query.order_by(col(SiteLink.site_id))).all()
    ]


@router.get("/rejections", response_model=list[RejectionPublic])
def rejections(session: SessionDep, principal: SyncReader,
               limit: int = Query(100, ge=1, le=500)) -> list[RejectionPublic]:
    query = select(SyncRejection).order_by(col(SyncRejection.id).desc()).limit(limit)
    if principal.site_ids is not None:
        query = query.where(col(SyncRejection.topic_site_id).in_(principal.site_ids))
    return [RejectionPublic.model_validate(r, from_attributes=True)
            for r in session.exec(query).all()]
