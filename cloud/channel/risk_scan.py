"""What the scheduled risk scans must look at: for channel.risk_scan, the live
referrals of the last days whose facts arrived since its previous run, from a watermark
stored per job (channel_scan_watermark).

A referral is due when it was made or judged since, when its customer's visits or
follow-ups reached the cloud since (their `created_at`: the cloud's arrival time, not the
appliance's), when one of its customer's deal documents changed since (cloud.deals.risk:
approved, co-buyers named, ID checked), when a face consent linked them or a sighting
of them arrived since (cloud.faces), when someone unmasked the customer's number since,
when its project's risk policy changed since, or when its project's sales office was
given its position since (far_signing compares places that were unknown until then).
Facts committed late — a transaction that began before the run and committed after it
read — are caught by reading from a margin before the watermark; the checks are
idempotent (one case per check and referral), so looking at a referral twice opens
nothing twice.

For channel.risk_referral_scan (the referral-stage checks, ADR 0049): every referral made
since, whatever its state, and the referrals of the last day whose number's look-up
reached the cloud since — an appliance's look-up is logged when it syncs, possibly after
the referral it preceded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, and_, cast, exists, or_
from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.catalog.models import Project, Site
from cloud.channel.models import Referral
from cloud.channel.risk_findings import LOOKUP_ACTIONS
from cloud.channel.risk_models import RiskPolicy, ScanWatermark
from cloud.deals.models import Deal
from cloud.faces.models import FacePerson, FaceSighting
from cloud.sales.models import Customer, FollowUp, Visit
from shared.timeutil import utcnow

# Longer than any transaction that writes visits, follow-ups or audit rows.
LATE_COMMIT_MARGIN = timedelta(minutes=5)
LIVE = ("pending", "confirmed")
# The first referral scan looks back this far; a look-up counts for referrals this young
# (as searched_before_referral reads look-ups logged up to a day after the referral).
REFERRAL_LOOKBACK = timedelta(days=1)


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
    dealt = exists().where(customer, col(Deal.customer_id) == col(Customer.id),
                           col(Deal.updated_at) > after)
    policy = exists().where(col(RiskPolicy.project_id) == col(Referral.project_id),
                            col(RiskPolicy.updated_at) > after)
    located = exists().where(col(Project.id) == col(Referral.project_id),
                             col(Site.id) == col(Project.site_id),
                             col(Site.position_set_at) > after)
    # Face checks: a consent linked the customer's face, or a sighting of it arrived.
    person = and_(customer, col(FacePerson.customer_id) == col(Customer.id))
    linked = exists().where(person, col(FacePerson.updated_at) > after)
    sighted = exists().where(person, col(FaceSighting.site_id) == col(FacePerson.site_id),
                             col(FaceSighting.person_ref) == col(FacePerson.person_ref),
                             col(FaceSighting.received_at) > after)
    return list(session.exec(select(Referral).where(
        recent, or_(col(Referral.created_at) > after, col(Referral.decided_at) > after,
                    visited, followed, dealt, unmasked, policy, located, linked, sighted))
        .order_by(col(Referral.id))).all())


def referred_since(session: Session, *, since: datetime | None, now: datetime
                   ) -> list[Referral]:
    after = (since if since is not None else now - REFERRAL_LOOKBACK) - LATE_COMMIT_MARGIN
    made = set(session.exec(select(Referral.id).where(
        col(Referral.created_at) > after)).all())
    made |= _looked_up_late(session, after=after, now=now)
    if not made:
        return []
    return list(session.exec(select(Referral).where(col(Referral.id).in_(made))
                             .order_by(col(Referral.id))).all())


def _looked_up_late(session: Session, *, after: datetime, now: datetime) -> set[int | None]:
    """The young referrals of the numbers looked up in audit rows logged since `after`:
    a known customer's by the customer, an unknown number by its blind index or mask."""
    lookups = session.exec(select(AuditLog.object_id, AuditLog.detail).where(
        col(AuditLog.action).in_(LOOKUP_ACTIONS), col(AuditLog.object_type) == "customer",
        col(AuditLog.at) > after)).all()
    customers = {int(oid) for oid, _ in lookups if oid.isdigit()}
    bidxs = {d["phone_bidx"] for oid, d in lookups if oid == "" and d.get("phone_bidx")}
    masks = {d["phone_masked"] for oid, d in lookups if oid == "" and d.get("phone_masked")}
    if not (customers or bidxs or masks):
        return set()
    young = col(Referral.created_at) >= now - REFERRAL_LOOKBACK
    known = exists().where(col(Customer.id).in_(customers),
                           col(Customer.project_id) == col(Referral.project_id),
                           col(Customer.phone_bidx) == col(Referral.phone_bidx))
    masked = and_(col(Referral.phone_bidx).is_(None), col(Referral.phone_masked).in_(masks))
    return set(session.exec(select(Referral.id).where(
        young, or_(known, col(Referral.phone_bidx).in_(bidxs), masked))).all())
