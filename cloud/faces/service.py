"""Reading face data: a customer's face consents and sighting timeline. Every read by a
person is audited (security baseline: faces are sensitive personal information); the
risk checks read the same timeline as evidence through `timeline`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.faces.errors import FaceCustomerNotFound
from cloud.faces.models import FaceConsentRecord, FacePerson, FaceSighting
from cloud.faces.schemas import FaceConsentOut, FaceDataOut, SightingOut, SubjectFace
from cloud.identity.deps import Principal
from cloud.sales.models import Customer
from shared.timeutil import as_utc, iso


def refs_of(session: Session, customer_ids: Sequence[int]) -> list[FacePerson]:
    """The live gallery entries linked to these customers by face consent."""
    if not customer_ids:
        return []
    return list(session.exec(select(FacePerson).where(
        col(FacePerson.customer_id).in_(customer_ids),
        col(FacePerson.erased_at).is_(None))).all())


def sightings_of(session: Session, people: Sequence[FacePerson],
                 until: datetime | None = None) -> list[FaceSighting]:
    """The sightings of these entries, earliest first (up to `until`)."""
    found: list[FaceSighting] = []
    for site_id in {p.site_id for p in people}:
        query = select(FaceSighting).where(
            col(FaceSighting.site_id) == site_id,
            col(FaceSighting.person_ref).in_([p.person_ref for p in people
                                              if p.site_id == site_id]))
        if until is not None:
            query = query.where(col(FaceSighting.first_seen_at) <= until)
        found.extend(session.exec(query).all())
    return sorted(found, key=lambda s: (as_utc(s.first_seen_at), s.sighting_id))


def timeline_item(sighting: FaceSighting) -> dict[str, Any]:
    """One sighting as a risk case's evidence: ids and times only."""
    who = "已授权客户" if sighting.subject == "customer" else "临时身份"
    return {"at": iso(as_utc(sighting.first_seen_at)), "kind": "sighting",
            "text": f"摄像头识别到访（{who}，出现 {sighting.count} 次，"
                    f"末次 {iso(as_utc(sighting.last_seen_at))}）",
            "sighting_id": sighting.sighting_id, "site_id": sighting.site_id,
            "camera_id": sighting.camera_id, "person_ref": sighting.person_ref,
            "last_seen_at": iso(as_utc(sighting.last_seen_at)), "count": sighting.count}


def customer_face_data(session: Session, *, principal: Principal,
                       customer_id: int) -> FaceDataOut:
    row = session.exec(select(Customer, Project.site_id)
                       .join(Project, col(Project.id) == col(Customer.project_id))
                       .where(col(Customer.id) == customer_id)).first()
    if row is None or not principal.sees_site(row[1]):
        raise FaceCustomerNotFound()
    consents = session.exec(select(FaceConsentRecord).where(
        FaceConsentRecord.customer_id == customer_id)
        .order_by(col(FaceConsentRecord.recorded_at))).all()
    sightings = sightings_of(session, refs_of(session, [customer_id]))
    audit_service.record(session, action="faces.data_read", principal=principal,
                         object_type="customer", object_id=str(customer_id),
                         detail={"consents": len(consents), "sightings": len(sightings)})
    return FaceDataOut(
        customer_id=customer_id,
        consents=[FaceConsentOut.model_validate(c, from_attributes=True) for c in consents],
        sightings=[SightingOut.model_validate(s, from_attributes=True) for s in sightings])


def subject_faces(session: Session, customer_ids: Sequence[int]) -> list[SubjectFace]:
    """The subject's faces for an access or copy request (the request's read is audited
    by the privacy workflow)."""
    people = refs_of(session, customer_ids)
    sightings = sightings_of(session, people)
    consents = session.exec(select(FaceConsentRecord).where(
        col(FaceConsentRecord.customer_id).in_(customer_ids))
        .order_by(col(FaceConsentRecord.recorded_at))).all() if customer_ids else []
    return [SubjectFace(
        customer_id=p.customer_id or 0, site_id=p.site_id, person_ref=p.person_ref,
        consents=[FaceConsentOut.model_validate(c, from_attributes=True) for c in consents
                  if (c.site_id, c.person_ref) == (p.site_id, p.person_ref)],
        sightings=sum(1 for s in sightings
                      if (s.site_id, s.person_ref) == (p.site_id, p.person_ref)),
        first_seen_at=p.first_seen_at, last_seen_at=p.last_seen_at)
        for p in sorted(people, key=lambda p: (p.site_id, p.id or 0))]
