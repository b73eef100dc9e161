"""A site's face settings: off until an HQ or security role switches them on with the
signage text, the capture area and the notice version (security baseline, "Faces"),
every change audited. The appliance learns them through the down-feed (`site.faces`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.catalog import service as catalog_service
from cloud.faces.errors import FacesNoticeIncomplete
from cloud.faces.models import SiteFaceSetting
from cloud.faces.schemas import SiteFacesIn
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from cloud.sync.feed import DerivedKind, register_kind
from cloud.sync.models import SiteLink
from shared.faces import SITE_FACES, SiteFaces
from shared.timeutil import utcnow


def get(session: Session, *, principal: Principal, site_id: str) -> SiteFaceSetting | None:
    catalog_service.get_site(session, principal=principal, site_id=site_id)
    return session.get(SiteFaceSetting, site_id)


def update(session: Session, *, principal: Principal, site_id: str,
           data: SiteFacesIn) -> SiteFaceSetting:
    catalog_service.get_site(session, principal=principal, site_id=site_id)
    if data.enabled and not (data.signage_text and data.capture_area and data.notice_version):
        raise FacesNoticeIncomplete()
    row = session.get(SiteFaceSetting, site_id, with_for_update=True)
    was_on = row is not None and row.enabled
    if row is None:
        row = SiteFaceSetting(site_id=site_id, changed_by=principal.user_id)
    row.enabled = data.enabled
    # What was shown while face use was on stays on record when it is switched off.
    if data.enabled:
        row.signage_text, row.capture_area = data.signage_text, data.capture_area
        row.notice_version = data.notice_version
    row.crop_retention_days = data.crop_retention_days
    row.changed_by, row.changed_at = principal.user_id, utcnow()
    session.add(row)
    session.flush()
    action = ("faces.site_enable" if data.enabled and not was_on
              else "faces.site_disable" if was_on and not data.enabled
              else "faces.site_update")
    audit_service.record(
        session, action=action, principal=principal, object_type="site", object_id=site_id,
        detail={"enabled": row.enabled, "signage_text": row.signage_text,
                "capture_area": row.capture_area, "notice_version": row.notice_version,
                "crop_retention_days": row.crop_retention_days})
    return row


def feed_item(row: SiteFaceSetting) -> dict[str, Any]:
    return SiteFaces(enabled=row.enabled, signage_text=row.signage_text,
                     notice_version=row.notice_version,
                     crop_retention_days=row.crop_retention_days,
                     changed_at=row.changed_at).model_dump(mode="json")


def site_faces(session: Session, settings: CloudSettings, link: SiteLink
               ) -> dict[str, dict[str, Any]]:
    """A site without a setting states nothing: the appliance starts with faces off."""
    row = session.get(SiteFaceSetting, link.site_id)
    return {} if row is None else {"site": feed_item(row)}


register_kind(DerivedKind(SITE_FACES, site_faces))
