"""Edge tokens for the consultant PWA: one per site in the user's scope, signed with that
site's key (shared.edge_token), so the sales office's appliance can check them offline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.identity.errors import NoSiteScope
from cloud.identity.models import UserScope
from cloud.identity.principal import Principal
from cloud.settings import CloudSettings
from cloud.sync.keys import site_key
from cloud.sync.models import SiteLink
from shared import edge_token
from shared.timeutil import utcnow


@dataclass(frozen=True)
class IssuedEdgeToken:
    site_id: str
    token: str
    expires_at: datetime


def issue(
    session: Session, *, settings: CloudSettings, principal: Principal,
    site_id: str | None = None, now: datetime | None = None,
) -> list[IssuedEdgeToken]:
    """Tokens for the sites the user is scoped to (explicitly: an HQ user seeing every
    site gets none for that), optionally just `site_id`; NoSiteScope when none."""
    now = now or utcnow()
    query = select(SiteLink).join(UserScope, col(UserScope.site_id) == SiteLink.site_id).where(
        UserScope.user_id == principal.user_id)
    if site_id is not None:
        query = query.where(SiteLink.site_id == site_id)
    links = session.exec(query.order_by(col(SiteLink.site_id))).all()
    if not links:
        raise NoSiteScope()
    issued = []
    for link in links:
        token, expires = edge_token.issue(
            site_key(settings, link), user_id=principal.user_id, name=principal.display_name,
            site_id=link.site_id, roles=principal.roles, now=now,
            session_id=principal.session_id)
        issued.append(IssuedEdgeToken(link.site_id, token, expires))
    audit_service.record(
        session, action="auth.edge_token", principal=principal, ip=principal.ip,
        object_type="user", object_id=str(principal.user_id),
        detail={"site_ids": [t.site_id for t in issued]},
    )
    return issued
