"""A sales office's position (案场位置) and the places recorded from it (ADR 0060).

A guided visit confirmed at the office's kiosk was confirmed at the office; a contract the
consultant says was signed 「在案场」 was signed there. Kiosks on the office LAN cannot ask
their browser for a position (no secure context), so HQ or a channel manager sets the
site's position once, in WGS-84 like every stored position (cloud.catalog.geo); one typed
from a Chinese web map comes in GCJ-02 (高德, 腾讯) or BD-09 (百度) and is converted. Each
recorded place keeps its source — the device's own position or the site's — so a risk
case can say which it used.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.catalog import geo
from cloud.catalog import service as catalog_service
from cloud.catalog.models import Site
from cloud.identity.deps import Principal
from shared.errors import ValidationFailed
from shared.timeutil import utcnow

SOURCE_NAMES = {"device": "设备定位", "site": "案场位置"}


@dataclass(frozen=True)
class Place:
    """A recorded place: WGS-84 degrees and where they came from (PLACE_SOURCES)."""

    lat: float
    lng: float
    source: str


class PositionOutsideChina(ValidationFailed):
    code = "site_position_outside_china"
    title = "案场位置不在中国境内，请检查经纬度是否填反或坐标系是否正确"


def set_position(session: Session, *, principal: Principal, site_id: str, lat: float,
                 lng: float, datum: geo.Datum, address: str) -> Site:
    """Set the site's position from (lat, lng) in `datum`; audited with what was typed."""
    site = catalog_service.get_site(session, principal=principal, site_id=site_id)
    if not geo.in_china(lat, lng):
        raise PositionOutsideChina()
    before = (site.lat, site.lng, site.address)
    wgs = geo.to_wgs84(lat, lng, datum)
    site.lat, site.lng = round(wgs[0], 7), round(wgs[1], 7)
    site.address = address.strip()
    site.position_set_by, site.position_set_at = principal.user_id, utcnow()
    session.add(site)
    session.flush()
    audit_service.record(
        session, action="site.position_set", principal=principal, ip=principal.ip,
        object_type="site", object_id=site_id,
        detail={"entered": {"lat": lat, "lng": lng, "datum": datum},
                "wgs84": {"lat": site.lat, "lng": site.lng}, "address": site.address,
                "before": {"lat": before[0], "lng": before[1], "address": before[2]}})
    return site


def of_site(session: Session, site_id: str) -> Place | None:
    """The site's configured position, if it has one."""
    site = session.get(Site, site_id)
    if site is None or site.lat is None or site.lng is None:
        return None
    return Place(site.lat, site.lng, "site")


def device_or_site(session: Session, site_id: str, lat: float | None,
                   lng: float | None) -> Place | None:
    """The place of something recorded at `site_id`: the device's own position when it
    gave both halves, else the site's configured one, else unknown."""
    if lat is not None and lng is not None:
        return Place(lat, lng, "device")
    return of_site(session, site_id)
