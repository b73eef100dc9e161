"""Consultant login through the edge: the cloud checks the password and issues this
site's edge token; the edge checks that token with its own key before handing it out
(a cloud and an appliance that disagree on the site key are found at once)."""

from __future__ import annotations

from edge_agent.kiosk import listings as kiosk_listings
from edge_agent.settings import EdgeSettings
from edge_agent.staff_auth.cloud import CloudClient
from edge_agent.staff_auth.deps import NotOnRoster, roster_member
from edge_agent.staff_auth.schemas import SiteProjectOut, StaffOut, StaffSessionOut
from edge_agent.store import Store
from shared import edge_token
from shared.errors import AppError, Forbidden


class NotSiteStaff(Forbidden):
    code = "not_site_staff"
    title = "您的账号没有分配到本案场，不能在这里登录"


class SiteKeyMismatch(AppError):
    status = 502
    code = "site_key_mismatch"
    title = "云端与本案场设备的密钥不一致，暂时无法登录，请联系管理员"


async def login(
    store: Store, settings: EdgeSettings, cloud: CloudClient, *, username: str, password: str
) -> StaffSessionOut:
    tokens = await cloud.login(username, password)
    access = str(tokens["access_token"])
    token = await cloud.edge_token(access, settings.site_id)
    if token is None:
        raise NotSiteStaff()
    try:
        claims = edge_token.verify(settings.site_key_bytes, token, site_id=settings.site_id)
    except edge_token.EdgeTokenInvalid as exc:
        raise SiteKeyMismatch() from exc
    member = await store.read(roster_member, claims.user_id)
    if member is None:
        raise NotOnRoster()
    projects = await kiosk_listings.active_projects(store)
    return StaffSessionOut(
        edge_token=token,
        edge_token_expires_at=claims.expires_at,
        cloud_access_token=access,
        cloud_url=settings.cloud_public_url or settings.cloud_url,
        site_id=settings.site_id,
        user=StaffOut(id=member.id, name=member.name, roles=list(claims.roles)),
        projects=[SiteProjectOut(id=p.id, name=p.name) for p in projects],
        default_project_id=settings.default_project_id,
    )
