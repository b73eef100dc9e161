"""Reception reads (scoped to the caller's sites) and the stand-in credit rule that deals
use: a deal closed on the day of a 义务接待 is shared between owner and stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.reception.models import RotaEventRecord, VisitProfileRecord
from cloud.reception.schemas import RotaEventPublic, VisitProfilePublic
from cloud.sales.follow_ups import VisitNotFound
from cloud.sales.models import Customer, Visit
from shared.timeutil import shanghai_date, utcnow

EVENTS_MAX = 500


def rota_events(session: Session, principal: Principal, *, site_id: str | None,
                duty_date: date | None, consultant_id: int | None) -> list[RotaEventPublic]:
    day = duty_date or shanghai_date(utcnow())
    query = (select(RotaEventRecord, User.display_name)
             .join(User, col(User.id) == RotaEventRecord.consultant_id, isouter=True)
             .where(RotaEventRecord.duty_date == day))
    if principal.site_ids is not None:
        query = query.where(col(RotaEventRecord.site_id).in_(principal.site_ids))
    if site_id is not None:
        query = query.where(RotaEventRecord.site_id == site_id)
    if consultant_id is not None:
        query = query.where(RotaEventRecord.consultant_id == consultant_id)
    rows = session.exec(query.order_by(col(RotaEventRecord.occurred_at).desc(),
                                       col(RotaEventRecord.event_seq).desc()).limit(EVENTS_MAX))
    return [RotaEventPublic(**e.model_dump(exclude={"project_id", "event_seq", "created_at"}),
                            consultant_name=name) for e, name in rows.all()]


def visit_profile(session: Session, principal: Principal, visit_id: str) -> VisitProfilePublic:
    visit = session.get(Visit, visit_id[:36])
    if visit is None or (principal.site_ids is not None
                         and visit.site_id not in principal.site_ids):
        raise VisitNotFound()
    row = session.get(VisitProfileRecord, visit.id)
    if row is None:
        return VisitProfilePublic(visit_id=visit.id)
    return VisitProfilePublic(**row.model_dump(exclude={"updated_at"}))


@dataclass(frozen=True)
class CreditShare:
    consultant_id: int
    percent: int


def deal_credit(session: Session, customer_id: int, deal_day: date) -> list[CreditShare]:
    """Who is credited with a deal the customer closes on `deal_day`: the owner alone,
    or the owner and that day's stand-in by the recorded share (50/50 by default)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.owner_id is None:
        return []
    found = session.exec(
        select(Visit.consultant_id, VisitProfileRecord.stand_in_for_id,
               VisitProfileRecord.stand_in_share)
        .join(VisitProfileRecord, col(VisitProfileRecord.visit_id) == Visit.id)
        .where(Visit.customer_id == customer_id, Visit.visit_date == deal_day,
               col(VisitProfileRecord.stand_in_for_id).is_not(None))).first()
    if found is None:
        return [CreditShare(customer.owner_id, 100)]
    stand_in, owner, share = found
    if stand_in is None or owner != customer.owner_id or not share:
        return [CreditShare(customer.owner_id, 100)]
    return [CreditShare(customer.owner_id, 100 - share), CreditShare(stand_in, share)]
