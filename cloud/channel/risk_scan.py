"""What the scheduled risk scan (channel.risk_scan) must look at again: the live
referrals of the last days whose facts arrived since its previous run, from a watermark
stored per job (channel_scan_watermark).

A referral is due when it was made or judged since, when its customer's visits or
follow-ups reached the cloud since (their `created_at`: the cloud's arrival time, not the
appliance's), when a face consent linked them or a sighting of them arrived since
(cloud.faces), when someone unmasked the customer's number since, or when its project's
risk policy changed since. Facts committed late — a transaction that began before the
run and committed after it read — are caught by reading from a margin before the
watermark; the checks are idempotent (one case per check and referral), so looking at a
referral twice opens nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, and_, cast, exists, or_
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.channel.models import Referral
from cloud.channel.risk_models import RiskPolicy, ScanWatermark
from cloud.faces.models import FacePerson, FaceSighting
from cloud.sales.models import Customer, FollowUp, Visit
from shared.timeutil import utcnow

# Longer than any transaction that writes visits, follow-ups or audit rows.
LATE_COMMIT_MARGIN = timedelta(minutes=5)
LIVE = ("pending", "confirmed")


def watermark(session: Session, job: str) -> datetime | None:
    """Where the previous run stopped (None: never ran). The row is locked until this
    run's transaction ends, so two runs of the job never overlap."""
    row = session.get(ScanWatermark, job, with_for_update=True)
    return row.scanned_through if row is not None else None


def advance(session: Session, job: str, through: datetime) -> None:
    row = session.get(ScanWatermark, job)
    if row is None:
        row = ScanWatermark(job=job, scanned_through=through)
    row.scanned_through, row.updated_at = through, utcnow()
    session.add(row)
    session.flush()


def changed_since(session: Session, *, since: datetime | None, now: datetime,
                  days: int) -> list[Referral]:
    recent = and_(col(Referral.created_at) >= now - timedelta(days=days),
                  col(Referral.state).in_(LIVE))
    if since is None:
        return list(session.exec(select(Referral).where(recent)
                                 .order_by(col(Referral.id))).all())
    after = since - LATE_COMMIT_MARGIN
    customer = and_(col(Customer.project_id) == col(Referral.project_id),
                    col(Customer.phone_bidx) == col(Referral.phone_bidx))
    visited = exists().where(customer, col(Visit.customer_id) == col(Customer.id),
                             col(Visit.created_at) > after)
    followed = exists().where(customer, col(FollowUp.customer_id) == col(Customer.id),
                              col(FollowUp.created_at) > after)
    unmasked = exists().where(
        customer, col(AuditLog.action) == "customer.unmask",
        col(AuditLog.object_type) == "customer",
        col(AuditLog.object_id) == cast(col(Customer.id), String),
        col(AuditLog.at) > after)
    policy = exists().where(col(RiskPolicy.project_id) == col(Referral.project_id),
                            col(RiskPolicy.updated_at) > after)
    # Face checks: a consent linked the customer's face, or a sighting of it arrived.
    person = and_(customer, col(FacePerson.customer_id) == col(Customer.id))
    linked = exists().where(person, col(FacePerson.updated_at) > after)
    sighted = exists().where(person, col(FaceSighting.site_id) == col(FacePerson.site_id),
                             col(FaceSighting.person_ref) == col(FacePerson.person_ref),
                             col(FaceSighting.received_at) > after)
    return list(session.exec(select(Referral).where(
        recent, or_(col(Referral.created_at) > after, col(Referral.decided_at) > after,
                    visited, followed, unmasked, policy, linked, sighted))
        .order_by(col(Referral.id))).all())
