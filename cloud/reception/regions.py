"""号码归属地 of each new visit, derived by the cloud from the number (never trusted from
the appliance), kept on the visit's profile row; and the profile's erasure."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from cloud.reception.models import VisitProfileRecord
from shared.phone_region import phone_region


def record_regions(session: Session, visits: Sequence[tuple[str, str]]) -> None:
    """(visit id, normalised phone) of visits just inserted in this transaction."""
    if not visits:
        return
    existing = {p.visit_id: p for p in session.exec(select(VisitProfileRecord).where(
        col(VisitProfileRecord.visit_id).in_([v for v, _ in visits])))}
    for visit_id, phone in visits:
        row = existing.get(visit_id) or VisitProfileRecord(visit_id=visit_id)
        row.phone_region = phone_region(phone)
        session.add(row)


PERSONAL_FIELDS = ("gender", "awareness", "layout", "area_min", "area_max", "budget_min",
                   "budget_max", "purpose", "grade", "phone_region")


def erase_profiles(session: Session, visit_ids: Sequence[str]) -> None:
    """A deletion request: what the profile says about the person goes; the rota facts
    (turn, stand-in share) stay with the visit's counts."""
    if not visit_ids:
        return
    for row in session.exec(select(VisitProfileRecord).where(
            col(VisitProfileRecord.visit_id).in_(visit_ids))):
        for field in PERSONAL_FIELDS:
            setattr(row, field, None)
        session.add(row)
