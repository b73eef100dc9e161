"""号码归属地 of each new visit, derived by the cloud from the number (never trusted from
the appliance), kept on the visit's profile row; and the profile's erasure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from cloud.bulk import insert_rows
from cloud.reception.models import VisitProfileRecord
from shared.phone_region import phone_region
from shared.timeutil import utcnow


def record_regions(session: Session, visits: Sequence[tuple[str, str]]) -> None:
    """(visit id, normalised phone) of visits just inserted in this transaction. New
    profile rows go in as one INSERT of plain rows: built as ORM objects they cost the
    sync consumer more than the visits themselves (docs/benchmarks.md)."""
    if not visits:
        return
    existing = {p.visit_id: p for p in session.exec(select(VisitProfileRecord).where(
        col(VisitProfileRecord.visit_id).in_([v for v, _ in visits])))}
    now = utcnow()
    fresh: list[dict[str, Any]] = []
    for visit_id, phone in visits:
        row = existing.get(visit_id)
        if row is None:
            fresh.append({**_BLANK_PROFILE, "visit_id": visit_id,
                          "phone_region": phone_region(phone), "updated_at": now})
            continue
        row.phone_region = phone_region(phone)
        session.add(row)
    insert_rows(session, VisitProfileRecord, fresh)


_BLANK_PROFILE: dict[str, Any] = {
    **{column.name: None for column in VisitProfileRecord.__table__.columns},  # type: ignore[attr-defined]
    "revision": 0,
}


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
