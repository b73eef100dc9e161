"""Visits never registered at reception (risk check `face_unregistered`): per site and
day (Asia/Shanghai), more distinct people seen by the cameras than the visits registered
that day brought (their party sizes), beyond the policy's tolerance.

Counted, not matched person by person: a visitor who registered without face consent
stays a temporary identity on the appliance, so only the totals can be compared. Staff
never reach the cloud (the appliance drops them). A case per site and day, under the
site's first project, with the temporary identities' sightings as evidence; it names no
broker and changes no owner.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.channel import risk_cases, risk_policy
from cloud.channel.risk_findings import Finding
from cloud.faces.models import FaceSighting
from cloud.faces.service import timeline_item
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared.timeutil import SHANGHAI, shanghai_date, utcnow

CHECK = "face_unregistered"
# Completed days looked at again on each run (sightings arrive late from offline sites).
DAYS_BACK = 3
EVIDENCE_MAX = 50


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def check_day(session: Session, *, site_id: str, day: date) -> dict[str, Any] | None:
    """A case opened for the site's day, as {case_id, excess}, or None."""
    project_id = session.exec(select(func.min(Project.id)).where(
        Project.site_id == site_id)).one()
    if project_id is None:
        return None
    setting = risk_policy.policy(session, project_id).setting(CHECK)
    if setting.action == "off":
        return None
    start, end = _bounds(day)
    sightings = session.exec(select(FaceSighting).where(
        FaceSighting.site_id == site_id, col(FaceSighting.first_seen_at) >= start,
        col(FaceSighting.first_seen_at) < end).order_by(col(FaceSighting.first_seen_at))).all()
    seen = len({s.person_ref for s in sightings})
    registered = int(session.exec(select(func.coalesce(func.sum(Visit.party_size), 0)).where(
        Visit.site_id == site_id, Visit.visit_date == day)).one())
    excess = seen - registered
    if excess <= setting.params["tolerance"]:
        return None
    strangers = [s for s in sightings if s.subject == "visitor"][:EVIDENCE_MAX]
    finding = Finding(
        f"{day.isoformat()} 摄像头识别到访 {seen} 人，前台登记 {registered} 人，"
        f"疑似 {excess} 人到访未登记",
        [timeline_item(s) for s in strangers],
        {"site_id": site_id, "day": day.isoformat(), "seen": seen, "registered": registered,
         "excess": excess})
    case = risk_cases.open_site_case(session, project_id=project_id,
                                     subject_key=f"{site_id}:{day.isoformat()}", code=CHECK,
                                     severity=setting.action, finding=finding)
    return None if case is None else {"case_id": case.id, "excess": excess}


def scan(session: Session, settings: CloudSettings) -> dict[str, Any]:
    return scan_at(session, utcnow())


def scan_at(session: Session, now: datetime) -> dict[str, Any]:
    """The completed days of the last DAYS_BACK with sightings, per site."""
    today = shanghai_date(now)
    since, _ = _bounds(today - timedelta(days=DAYS_BACK))
    until, _ = _bounds(today)
    rows = session.exec(select(FaceSighting.site_id, FaceSighting.first_seen_at).where(
        col(FaceSighting.first_seen_at) >= since,
        col(FaceSighting.first_seen_at) < until)).all()
    days = sorted({(site_id, shanghai_date(at)) for site_id, at in rows})
    opened = [found for site_id, day in days
              if (found := check_day(session, site_id=site_id, day=day)) is not None]
    return {"checked": len(days), "opened": len(opened)}
