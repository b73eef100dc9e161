from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from cloud.catalog.models import Site
from cloud.db import SessionDep
from cloud.identity.deps import Principal, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from cloud.sync.models import SiteLink, SyncRejection
from shared.timeutil import UtcDateTime

router = DomainRouter(prefix="/sync", tags=["sync 边缘同步"])

SyncReader = Annotated[Principal, Depends(authorize(Perm.SYNC_READ))]


class SiteSyncStatus(BaseModel):
    site_id: str
    site_name: str
    online: bool
    health: Literal["ok", "stalled", "refused", "alarm"] = Field(
        description="ok 正常 / stalled 同步停滞 / refused 拒收中（待运维处理）/ alarm 有告警")
    alarms: list[str] = Field(description="当前告警代码：gap_unhealed、edge_stalled、"
                              "epoch_refused、twin、seq_conflict、cloud_behind、"
                              "edge_storage_full、clock_skew")
    epoch: str | None
    refused_epoch: str | None
    instance: str | None
    refused_instance: str | None
    edge_link: str
    edge_storage_full: bool
    status_at: UtcDateTime | None
    last_applied_seq: int
    last_event_at: UtcDateTime | None
    edge_backlog: int
    edge_oldest_unacked_at: UtcDateTime | None
    gap_since: UtcDateTime | None
    gap_alarm: bool
    clock_skew_seconds: float | None
    skew_sampled_at: UtcDateTime | None
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
    return [_status_of(link, site.name)
            for link, site in session.exec(query.order_by(col(SiteLink.site_id))).all()]


def _status_of(link: SiteLink, site_name: str) -> SiteSyncStatus:
    alarms = [code for code, raised in (
        ("gap_unhealed", link.gap_alarm), ("edge_stalled", link.edge_link == "stalled"),
        ("epoch_refused", link.refused_epoch is not None), ("twin", link.twin_alarm),
        ("seq_conflict", link.conflict_alarm), ("cloud_behind", link.cloud_behind_alarm),
        ("edge_storage_full", link.edge_storage_full), ("clock_skew", link.clock_skew_alarm),
    ) if raised]
    refused = link.refused_epoch is not None or link.twin_alarm
    stalled = link.stalled or link.edge_link == "stalled"
    health = "refused" if refused else "stalled" if stalled else "alarm" if alarms else "ok"
    fields = set(SiteSyncStatus.model_fields) - {"site_name", "health", "alarms"}
    return SiteSyncStatus(site_name=site_name, health=health, alarms=alarms,
                          **link.model_dump(include=fields))


@router.get("/rejections", response_model=list[RejectionPublic])
def rejections(session: SessionDep, principal: SyncReader,
               limit: int = Query(100, ge=1, le=500)) -> list[RejectionPublic]:
    query = select(SyncRejection).order_by(col(SyncRejection.id).desc()).limit(limit)
    if principal.site_ids is not None:
        query = query.where(col(SyncRejection.topic_site_id).in_(principal.site_ids))
    return [RejectionPublic.model_validate(r, from_attributes=True)
            for r in session.exec(query).all()]
