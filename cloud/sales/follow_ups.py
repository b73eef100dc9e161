"""Follow-ups (跟进): recorded by a consultant's phone through the edge (sync) or, when the
edge is out of reach, straight at the cloud. Functions flush; the caller commits.

The phone makes the follow-up's id and uses it as the idempotency key on both paths; it
is the table's primary key, so whichever path arrives second finds the row and changes
nothing (sync outcome `merged`, route answer 200 with the stored row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from cloud import bulk
from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.identity.permissions import Perm
from cloud.sales import service as sales_service
from cloud.sales.free_text import NOTE_CONTEXT, seal
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.settings import CloudSettings
from cloud.sync import feed
from shared.bounds import DB_INT_MAX
from shared.errors import NotFound
from shared.events import FollowUpDraft, FollowUpIdReused, FollowUpRecorded
from shared.follow_ups import check_content, check_writer, follow_up_effective
from shared.phone import normalise_phone
from shared.timeutil import as_utc, utcnow

MAX_LIST = 200


class FollowUpIn(FollowUpDraft):
    """The cloud also accepts the customer's cloud id."""

    customer_id: int | None = Field(None, ge=1, le=DB_INT_MAX, description="客户 id（云端）")

    def names_customer(self) -> bool:
        return super().names_customer() or self.customer_id is not None


class VisitNotFound(NotFound):
    code = "visit_not_found"
    title = "到访记录不存在、不在您的数据范围内，或尚未从案场同步到云端"


# ---- the cloud route ---------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    site_id: str
    project_id: int
    customer_id: int
    visit_id: str | None
    owner_id: int | None


def _resolve(
    session: Session, settings: CloudSettings, principal: Principal, data: FollowUpIn
) -> _Target:
    """The customer the follow-up is about, within the principal's data scope (404 else)."""
    if data.visit_id is not None:
        visit = session.get(Visit, str(data.visit_id))
        if visit is None or not principal.sees_site(visit.site_id):
            raise VisitNotFound()
        owner = session.exec(
            select(Customer.owner_id).where(Customer.id == visit.customer_id)).one()
        return _Target(visit.site_id, visit.project_id, visit.customer_id, visit.id, owner)
    if data.customer_id is not None:
        customer, site_id = sales_service.customer_and_site(
            session, principal=principal, customer_id=data.customer_id)
        assert customer.id is not None
        return _Target(site_id, customer.project_id, customer.id, None, customer.owner_id)
    assert data.phone is not None
    bidx = settings.blind_index.phone(normalise_phone(data.phone))
    project = session.get(Project, data.project_id) if data.project_id else None
    found = None
    if project is not None and principal.sees_site(project.site_id):
        found = session.exec(select(Customer).where(
            Customer.project_id == project.id, Customer.phone_bidx == bidx)).first()
    if project is None or found is None or found.id is None:
        raise NotFound("该项目下没有这个手机号的客户", code="customer_not_found")
    return _Target(project.site_id, found.project_id, found.id, None, found.owner_id)


def _replayed(existing: FollowUp, principal: Principal) -> FollowUp:
    if existing.consultant_id != principal.user_id:
        raise FollowUpIdReused()
    return existing


def create(
    session: Session, *, settings: CloudSettings, principal: Principal, data: FollowUpIn,
    now: datetime | None = None,
) -> tuple[FollowUp, bool]:
    """Store the follow-up once; (row, created). A retry — or the same follow-up already
    synced from the edge — returns the stored row."""
    follow_up_id = str(data.id)
    existing = session.get(FollowUp, follow_up_id)
    if existing is not None:
        return _replayed(existing, principal), False
    check_content(data.kind, data.reached, data.note)
    target = _resolve(session, settings, principal, data)
    check_writer(target.owner_id, principal.user_id, manager=principal.can(Perm.FOLLOW_UP_ANY))
    row = FollowUp(
        id=follow_up_id, site_id=target.site_id, project_id=target.project_id,
        customer_id=target.customer_id, visit_id=target.visit_id,
        consultant_id=principal.user_id, kind=data.kind, reached=data.reached,
        effective=follow_up_effective(data.kind, data.reached),
        note_enc=seal(settings, data.note, context=NOTE_CONTEXT),
        next_at=data.next_at, occurred_at=min(as_utc(data.occurred_at), now or utcnow()),
        recorded_via="cloud",
    )
    if not bulk.insert_if_absent(session, row):
        # The same id committed a moment ago by the sync consumer (or a parallel retry).
        raced = session.get(FollowUp, follow_up_id)
        assert raced is not None
        return _replayed(raced, principal), False
    if row.effective:
        customer = session.get(Customer, target.customer_id)
        assert customer is not None
        customer.contacted(row.occurred_at)
        feed.announce_customer(session, settings, customer)  # the phone's appliance learns it
    audit_service.record(
        session, action="follow_up.create", principal=principal, ip=principal.ip,
        object_type="follow_up", object_id=follow_up_id,
        detail={"customer_id": target.customer_id, "visit_id": target.visit_id,
                "kind": data.kind, "effective": row.effective, "via": "cloud"},
    )
    return row, True


def list_for_customer(
    session: Session, *, principal: Principal, customer_id: int, limit: int = MAX_LIST
) -> list[tuple[FollowUp, str | None]]:
    """A customer's follow-ups, newest first, with the consultant's name (scoped: 404)."""
    sales_service.show_customer(session, principal=principal, customer_id=customer_id)
    return of_customer(session, customer_id=customer_id, limit=limit)


# Composed once: building the select per request cost a sixth of a list's CPU (#24).
_OF_CUSTOMER = (
    select(FollowUp, User.display_name)
    .outerjoin(User, col(User.id) == FollowUp.consultant_id)
    .where(FollowUp.customer_id == bindparam("customer_id"))
    .order_by(col(FollowUp.occurred_at).desc(), col(FollowUp.id).desc())
    .limit(bindparam("limit"))
)


def of_customer(session: Session, *, customer_id: int, limit: int
                ) -> list[tuple[FollowUp, str | None]]:
    """list_for_customer for a caller that has checked the scope already."""
    rows = session.exec(_OF_CUSTOMER, params={"customer_id": customer_id, "limit": limit})
    return [(f, name) for f, name in rows.all()]


# ---- edge sync ---------------------------------------------------------------------


@dataclass(frozen=True)
class SyncedFollowUp:
    event: FollowUpRecorded
    seq: int


@dataclass(frozen=True)
class SyncedOutcome:
    outcome: str  # applied | merged | rejected
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def record_synced(
    session: Session, *, settings: CloudSettings, site_id: str,
    items: Sequence[SyncedFollowUp], received_at: datetime,
) -> tuple[list[SyncedOutcome], list[Customer]]:
    """Apply follow-up events of one site in seq order with a fixed number of queries;
    (one outcome per item, the customers an effective follow-up touched).

    Called after the run's visits are flushed, so a follow-up finds a visit registered
    earlier in the same run. A visit the cloud does not know (e.g. merged into another
    visit of that day) is dropped from the follow-up, which still names its customer by
    project and phone; a visit of another site rejects the event.
    """
    if not items:
        return [], []
    events = [item.event for item in items]
    ids = [str(e.follow_up_id) for e in events]
    stored: dict[str, int] = dict(session.exec(
        select(FollowUp.id, FollowUp.consultant_id).where(col(FollowUp.id).in_(ids))).all())
    visit_ids = {str(e.visit_id) for e in events if e.visit_id is not None}
    visits = {v.id: v for v in session.exec(select(Visit).where(col(Visit.id).in_(visit_ids)))}
    bidx = {p: settings.blind_index.phone(p) for p in {e.phone for e in events}}
    customers = {
        (c.project_id, c.phone_bidx): c
        for c in session.exec(select(Customer).where(col(Customer.phone_bidx).in_(bidx.values())))
    }
    by_id = {c.id: c for c in customers.values()}
    touched: dict[int, Customer] = {}
    users = set(session.exec(
        select(User.id).where(col(User.id).in_({e.consultant_id for e in events}))).all())

    outcomes: list[SyncedOutcome] = []
    for item, event, follow_up_id in zip(items, events, ids, strict=True):
        detail: dict[str, Any] = {"follow_up_id": follow_up_id}
        if follow_up_id in stored:
            same = stored[follow_up_id] == event.consultant_id
            outcomes.append(SyncedOutcome("merged", detail=detail) if same
                            else SyncedOutcome("rejected", "follow_up_id_reused"))
            continue
        if event.consultant_id not in users:
            outcomes.append(SyncedOutcome("rejected", "unknown_consultant"))
            continue
        if follow_up_effective(event.kind, event.reached) and not event.note.strip():
            # The edge refuses these; one arriving anyway (an old or forged agent) would
            # extend a protection with nothing behind it.
            outcomes.append(SyncedOutcome("rejected", "follow_up_content_required"))
            continue
        project_id = event.project_id
        found = customers.get((project_id, bidx[event.phone]))
        customer_id = found.id if found is not None else None
        visit_id = str(event.visit_id) if event.visit_id is not None else None
        visit = visits.get(visit_id) if visit_id else None
        if visit is not None and visit.site_id != site_id:
            outcomes.append(SyncedOutcome("rejected", "visit_not_in_site"))
            continue
        if visit is not None:
            project_id, customer_id = visit.project_id, visit.customer_id
        elif visit_id is not None:
            detail["dropped_visit_id"] = visit_id
            visit_id = None
        if customer_id is None:
            outcomes.append(SyncedOutcome("rejected", "customer_not_found"))
            continue
        stored[follow_up_id] = event.consultant_id
        occurred = min(as_utc(event.occurred_at), received_at)
        if follow_up_effective(event.kind, event.reached):
            customer = by_id.get(customer_id) or session.get(Customer, customer_id)
            assert customer is not None
            customer.contacted(occurred)
            touched[customer_id] = customer
        session.add(FollowUp(
            id=follow_up_id, site_id=site_id, project_id=project_id, customer_id=customer_id,
            visit_id=visit_id, consultant_id=event.consultant_id, kind=event.kind,
            reached=event.reached, effective=follow_up_effective(event.kind, event.reached),
            note_enc=seal(settings, event.note, context=NOTE_CONTEXT), next_at=event.next_at,
            occurred_at=occurred, recorded_via="edge", event_seq=item.seq,
        ))
        outcomes.append(SyncedOutcome("applied", detail=detail))
    session.flush()
    return outcomes, list(touched.values())
