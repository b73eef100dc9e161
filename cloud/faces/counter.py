"""The distinct-person counter (security baseline, "Faces"): how many people have face
data stored on the deployment's appliances, as the cloud learns it — every gallery entry
a consent or a sighting named, minus the erased ones, one person per customer number
across sites and projects (a temporary identity counts once on its own).

Past the warning level (80,000) and the filing level (100,000: the operator must file
with the provincial regulator within 30 working days) an alarm is raised once — an
audited failure the console shows beside the count — and cleared when the count falls
back below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.faces.models import FaceCounter, FacePerson
from cloud.sales.models import Customer
from cloud.settings import CloudSettings
from shared.timeutil import utcnow


def distinct_persons(session: Session) -> int:
    who = func.coalesce(col(Customer.phone_bidx),
                        cast(col(FacePerson.site_id), String) + ":" + col(FacePerson.person_ref))
    found = session.exec(select(func.count(func.distinct(who))).select_from(FacePerson)
                         .outerjoin(Customer, col(Customer.id) == col(FacePerson.customer_id))
                         .where(col(FacePerson.erased_at).is_(None))).one()
    return int(found)


def level(settings: CloudSettings, persons: int) -> str:
    if persons >= settings.face_count_filing:
        return "filing"
    return "warning" if persons >= settings.face_count_warning else "ok"


def current(session: Session) -> FaceCounter:
    return session.get(FaceCounter, 1) or FaceCounter(persons=distinct_persons(session))


def _alarm(session: Session, *, raised: datetime | None, reached: bool, now: datetime,
           action: str, persons: int, threshold: int) -> datetime | None:
    if reached and raised is None:
        audit_service.record(session, action=action, result="failure", actor="system",
                             object_type="face_counter", object_id="deployment",
                             detail={"persons": persons, "threshold": threshold})
        return now
    return raised if reached else None


def recount(session: Session, settings: CloudSettings) -> dict[str, Any]:
    """The scheduled count: store it and raise (once) or clear the alarms."""
    now = utcnow()
    row = session.get(FaceCounter, 1, with_for_update=True) or FaceCounter(id=1)
    persons = distinct_persons(session)
    row.persons, row.counted_at = persons, now
    row.warning_since = _alarm(
        session, raised=row.warning_since, reached=persons >= settings.face_count_warning,
        now=now, action="faces.count_warning", persons=persons,
        threshold=settings.face_count_warning)
    row.filing_since = _alarm(
        session, raised=row.filing_since, reached=persons >= settings.face_count_filing,
        now=now, action="faces.count_filing", persons=persons,
        threshold=settings.face_count_filing)
    session.add(row)
    session.flush()
    return {"persons": persons, "level": level(settings, persons)}
