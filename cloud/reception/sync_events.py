"""The reception domain's up-stream event types: `rota.changed` (the queue's history),
`visit.profiled` (a visit's profile and a manager's same-day corrections) and
`call.recorded` (the incoming-call register, 来电登记).

Registered with cloud.sync.handlers; each handler applies a whole run with a fixed
number of queries. A forgotten-name claim moves the customer to the claimant only while
the receiver still owns them (a transfer made meanwhile wins). A `settings_changed`
event changes the project's reception settings at the cloud when it is the newer change
(cloud.reception.settings, ADR 0051).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, select

from cloud.audit import service as audit_service
from cloud.identity.models import UserScope
from cloud.reception import calls
from cloud.reception import settings as reception_settings
from cloud.reception.models import (
    CallRecord,
    ReceptionSetting,
    RotaEventRecord,
    VisitProfileRecord,
)
from cloud.sales import ownership
from cloud.sales.models import Customer, Visit
from cloud.sync.handlers import ApplyContext, EventType, Outcome, register
from shared.envelope import Envelope
from shared.phone import mask_phone
from shared.reception import ReceptionRules
from shared.reception_events import (
    CALL_RECORDED,
    ROTA_CHANGED,
    VISIT_PROFILED,
    CallRecorded,
    RotaChanged,
    VisitProfiled,
)
from shared.timeutil import as_utc, shanghai_date

PROFILE_FIELDS = ("gender", "awareness", "layout", "area_min", "area_max", "budget_min",
                  "budget_max", "purpose", "grade")


def _visits(ctx: ApplyContext, ids: set[str]) -> dict[str, Visit]:
    if not ids:
        return {}
    rows = ctx.session.exec(select(Visit).where(col(Visit.id).in_(ids),
                                                Visit.site_id == ctx.site_id)).all()
    return {v.id: v for v in rows}


def _profiles(ctx: ApplyContext, ids: set[str]) -> dict[str, VisitProfileRecord]:
    if not ids:
        return {}
    rows = ctx.session.exec(select(VisitProfileRecord).where(
        col(VisitProfileRecord.visit_id).in_(ids))).all()
    return {p.visit_id: p for p in rows}


def apply_rota(ctx: ApplyContext, items: Sequence[tuple[Envelope, RotaChanged]]
               ) -> list[Outcome]:
    session = ctx.session
    ids = [str(e.rota_event_id) for _, e in items]
    known = set(session.exec(select(RotaEventRecord.id).where(
        col(RotaEventRecord.id).in_(ids))).all())
    visit_ids = {str(e.visit_id) for _, e in items if e.visit_id is not None}
    visits = _visits(ctx, visit_ids)
    profiles = _profiles(ctx, {v for v in visit_ids if v in visits})
    claims = [e for _, e in items if e.action == "claimed" and e.visit_id is not None
              and str(e.visit_id) in visits and str(e.rota_event_id) not in known]
    customers = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(
        {visits[str(e.visit_id)].customer_id for e in claims})))} if claims else {}
    staff = set(session.exec(select(UserScope.user_id).where(
        UserScope.site_id == ctx.site_id)).all()) if claims else set()
    setting_projects = {e.project_id for _, e in items if e.action == "settings_changed"}
    settings = {r.project_id: r for r in session.exec(select(ReceptionSetting).where(
        col(ReceptionSetting.project_id).in_(setting_projects)))} if setting_projects else {}
    outcomes = []
    for envelope, event in items:
        key = str(event.rota_event_id)
        if key in known:
            outcomes.append(Outcome("merged", ref=key))
            continue
        known.add(key)
        occurred, _ = ctx.event_time(envelope)
        visit_id = str(event.visit_id) if event.visit_id else None
        session.add(RotaEventRecord(
            id=key, site_id=ctx.site_id, project_id=event.project_id,
            duty_date=event.duty_date, occurred_at=occurred, consultant_id=event.consultant_id,
            action=event.action, actor=event.actor, reason=event.reason,
            away_reason=event.away_reason, visit_id=visit_id if visit_id in visits else None,
            position_before=event.position_before, position_after=event.position_after,
            detail=event.detail, event_seq=envelope.seq))
        if event.action == "turn_consumed" and visit_id in visits:
            profile = profiles.get(visit_id) or VisitProfileRecord(visit_id=visit_id)
            profile.consumed_turn = True
            profiles[visit_id] = profile
            session.add(profile)
        detail: dict[str, Any] = {}
        if event in claims and visit_id is not None:
            detail = _claim(ctx, event, visits[visit_id], customers, staff)
        if event.action == "settings_changed":
            detail = _settings(ctx, event, occurred, settings)
        outcomes.append(Outcome("applied", ref=key, detail=detail))
    return outcomes


def _claim(ctx: ApplyContext, event: RotaChanged, visit: Visit,
           customers: dict[int | None, Customer], staff: set[int]) -> dict[str, Any]:
    customer = customers.get(visit.customer_id)
    receiver = event.detail.get("receiver")
    if customer is None or event.consultant_id not in staff:
        return {"claim": "ignored"}
    if customer.owner_id != receiver:
        return {"claim": "owner_changed", "owner_id": customer.owner_id}
    customer.owner_id = event.consultant_id
    ctx.session.add(customer)
    ownership.log_step(ctx.session, customer, ownership.CLAIM, at=as_utc(event.occurred_at),
                       from_owner_id=receiver, to_owner_id=event.consultant_id,
                       reason=event.reason)
    audit_service.record(
        ctx.session, action="customer.claim", actor=event.actor,
        object_type="customer", object_id=str(customer.id),
        detail={"visit_id": visit.id, "from": receiver, "to": event.consultant_id,
                "via": f"site:{ctx.site_id}", "reason": event.reason})
    return {"claim": "applied", "from": receiver}


def _settings(ctx: ApplyContext, event: RotaChanged, at: datetime,
              rows: dict[int, ReceptionSetting]) -> dict[str, Any]:
    """The appliance's new settings: `detail.rules` in full (older appliances sent only
    `detail.changed`, {field: [old, new]}, laid over what the cloud holds)."""
    row = rows.get(event.project_id)
    try:
        if "rules" in event.detail:
            rules = ReceptionRules.model_validate(event.detail["rules"])
        else:
            changed = event.detail.get("changed") or {}
            rules = ReceptionRules.model_validate({
                **reception_settings.rules_of(row).model_dump(mode="json"),
                **{k: v[1] for k, v in changed.items()}})
    except (ValidationError, TypeError, IndexError, KeyError):
        return {"settings": "invalid"}
    kept = reception_settings.apply_site_change(
        ctx.session, ctx.site_id, project_id=event.project_id, rules=rules, at=at,
        sent_at=event.occurred_at, by=event.consultant_id, row=row)
    if kept is None:
        return {"settings": "older"}
    rows[event.project_id] = kept
    return {"settings": "applied"}


def apply_profiles(ctx: ApplyContext, items: Sequence[tuple[Envelope, VisitProfiled]]
                   ) -> list[Outcome]:
    visit_ids = {str(e.visit_id) for _, e in items}
    visits = _visits(ctx, visit_ids)
    profiles = _profiles(ctx, set(visits))
    outcomes = []
    for envelope, event in items:
        visit_id = str(event.visit_id)
        visit = visits.get(visit_id)
        if visit is None:
            outcomes.append(Outcome("rejected", "visit_not_in_site"))
            continue
        occurred, _ = ctx.event_time(envelope)
        profile = profiles.get(visit_id) or VisitProfileRecord(visit_id=visit_id)
        if event.revision > 0 and shanghai_date(as_utc(occurred)) != visit.visit_date:
            outcomes.append(Outcome("rejected", "visit_correction_closed"))
            continue
        if event.revision < profile.revision or (
                event.revision == profile.revision and profile.revision > 0):
            outcomes.append(Outcome("merged", ref=visit_id))
            continue
        before = {f: getattr(profile, f) for f in PROFILE_FIELDS}
        for field in PROFILE_FIELDS:
            setattr(profile, field, getattr(event.profile, field))
        if event.stand_in_for is not None:
            profile.stand_in_for_id, profile.stand_in_share = (event.stand_in_for,
                                                               event.stand_in_share)
        if event.claimable_until is not None:
            profile.claimable_until = event.claimable_until
        if event.consumed_turn is not None:
            profile.consumed_turn = event.consumed_turn
        profile.revision, profile.updated_at = event.revision, ctx.received_at
        if event.revision > 0:
            _correct(ctx, event, visit, profile, before, occurred)
        profiles[visit_id] = profile
        ctx.session.add(profile)
        outcomes.append(Outcome("applied", ref=visit_id))
    return outcomes


def _correct(ctx: ApplyContext, event: VisitProfiled, visit: Visit,
             profile: VisitProfileRecord, before: dict[str, Any], at: Any) -> None:
    """A manager's same-day correction: applied, and audited with what changed."""
    changes: dict[str, Any] = {f: [before[f], getattr(profile, f)] for f in PROFILE_FIELDS
                               if before[f] != getattr(profile, f)}
    if event.party_size is not None and event.party_size != visit.party_size:
        changes["party_size"] = [visit.party_size, event.party_size]
        visit.party_size = event.party_size
    if event.source is not None and event.source != visit.source:
        changes["source"] = [visit.source, event.source]
        visit.source = event.source
    ctx.session.add(visit)
    profile.corrected_by, profile.corrected_at = event.corrected_by, at
    audit_service.record(
        ctx.session, action="visit.correct", actor=f"user:{event.corrected_by}",
        object_type="visit", object_id=visit.id,
        detail={"revision": event.revision, "reason": event.reason, "changes": changes,
                "via": f"site:{ctx.site_id}"})


def apply_calls(ctx: ApplyContext, items: Sequence[tuple[Envelope, CallRecorded]]
                ) -> list[Outcome]:
    """Each call once (its id); stored with its phone encrypted and blind-indexed, on the
    Beijing day of the time the cloud accepts for it."""
    session, cipher, index = ctx.session, ctx.settings.cipher, ctx.settings.blind_index
    known = set(session.exec(select(CallRecord.id).where(
        col(CallRecord.id).in_([str(e.call_id) for _, e in items]))).all())
    staff = set(session.exec(
        select(UserScope.user_id).where(UserScope.site_id == ctx.site_id)).all())
    outcomes = []
    for envelope, event in items:
        key = str(event.call_id)
        if key in known:
            outcomes.append(Outcome("merged", ref=key))
            continue
        known.add(key)
        detail: dict[str, Any] = {}
        consultant_id = event.consultant_id
        if consultant_id is not None and consultant_id not in staff:
            detail["dropped_consultant_id"], consultant_id = consultant_id, None
        occurred, _ = ctx.event_time(envelope)
        session.add(CallRecord(
            id=key, site_id=ctx.site_id, project_id=event.project_id,
            phone_enc=cipher.encrypt(event.phone, context=calls.PHONE_CONTEXT),
            phone_bidx=index.phone(event.phone), phone_masked=mask_phone(event.phone),
            name_enc=cipher.encrypt(event.name, context=calls.NAME_CONTEXT)
            if event.name else None,
            awareness=event.awareness, consultant_id=consultant_id,
            recorded_by=event.recorded_by, occurred_at=occurred,
            call_date=shanghai_date(as_utc(occurred)), event_seq=envelope.seq))
        outcomes.append(Outcome("applied", ref=key, detail=detail))
    return outcomes


register(EventType(VISIT_PROFILED, VisitProfiled, apply_profiles, order=18,
                   audit_key="visit_profiles"))
register(EventType(ROTA_CHANGED, RotaChanged, apply_rota, order=45, audit_key="rota_changes"))
register(EventType(CALL_RECORDED, CallRecorded, apply_calls, order=19, audit_key="calls"))
