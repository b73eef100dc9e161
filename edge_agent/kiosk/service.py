"""Kiosk rules: register a visit (idempotent, one per customer per Shanghai day, written with
its outbox event in one transaction). Look-ups are in `lookup`, lists in `listings`, the
visitor's consent in `visit_consent`.

Callable without the HTTP layer, e.g. by the benchmark:
`await register_visit(store, settings, VisitIn(phone=..., party_size=1))`.
Database work runs in `store.write` / `store.read` callbacks (one transaction each).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.crash import crash_point
from edge_agent.kiosk import guided, manual_guide, reception
from edge_agent.kiosk.lookup import customer_view, resolve_project
from edge_agent.kiosk.schemas import Outcome, VisitIn
from edge_agent.kiosk.visit_consent import consent_of
from edge_agent.rota import queue as rota_queue
from edge_agent.rota import service as rota_service
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.reception import FIRST_VISIT, Visit
from edge_agent.store.models.site import Consultant, Project
from shared import qr
from shared.errors import Conflict, ValidationFailed
from shared.events import VISIT_REGISTERED, VisitConsent, VisitRegistered
from shared.phone import mask_phone, normalise_phone
from shared.phone_region import phone_region
from shared.reception_events import VisitProfile
from shared.timeutil import shanghai_date, utcnow

PHONE_CONTEXT = "visit.phone"
NAME_CONTEXT = "visit.name"
INTENT_CONTEXT = "visit.intent"


class UnknownProject(ValidationFailed):
    code = "unknown_project"
    title = "项目不存在或不属于本案场"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "该幂等键已用于另一位客户的登记，请使用新的幂等键"


@dataclass(frozen=True)
class Registration:
    visit: Visit
    outcome: Outcome

    @property
    def created(self) -> bool:
        return self.outcome == "created"


async def _check_references(
    session: AsyncSession, settings: EdgeSettings, project_id: int, consultant_id: int | None
) -> Consultant | None:
    if project_id != settings.default_project_id:  # the office's own project needs no look
        known = await session.get(Project, project_id)
        if known is None or not known.active:
            raise UnknownProject(extra={"project_id": project_id})
    if consultant_id is None:
        return None
    # Only a rota member receives: a sales manager may own customers but does not receive.
    return await rota_service.member(session, consultant_id)


@dataclass(frozen=True)
class _Request:
    data: VisitIn
    phone: str
    phone_bidx: str
    project_id: int
    key: str
    now: datetime
    consent: VisitConsent
    guide: guided.Guide | None = None
    tablet: str = "local"


async def _register_tx(
    session: AsyncSession, settings: EdgeSettings, req: _Request
) -> Registration:
    """The registration transaction: the visit and its outbox row, or nothing."""
    replay = (await session.exec(select(Visit).where(Visit.idempotency_key == req.key))).first()
    if replay is not None:
        if (replay.project_id, replay.phone_bidx) != (req.project_id, req.phone_bidx):
            raise IdempotencyKeyReused()
        return Registration(replay, "replayed")
    data = req.data
    consultant = await _check_references(session, settings, req.project_id, data.consultant_id)
    pick = None if data.guide_referral_id is None else await manual_guide.pick_of(
        session, settings, referral_id=data.guide_referral_id, project_id=req.project_id,
        phone=req.phone, now=req.now)
    view = await customer_view(session, settings, req.project_id, req.phone_bidx, req.now)
    answer = await guided.provisional(
        session, settings, view=view, phone=req.phone, guide=req.guide,
        consultant_id=data.consultant_id, now=req.now, pick=pick)
    edge_state = answer.referral_state if answer else None
    edge_reason = answer.referral_reason if answer else None
    if view.today is not None:
        # Registered as a walk-in earlier today, the broker's code scanned (or the broker
        # picked) now: the day's one visit becomes the guided one.
        if req.guide is not None and view.today.broker_id is None:
            await guided.use(session, settings, req.guide, phone=req.phone, visit=view.today,
                             edge_state=edge_state, edge_reason=edge_reason, now=req.now)
        elif pick is not None and view.today.broker_id is None:
            await manual_guide.use(session, settings, pick, phone=req.phone,
                                   visit=view.today, tablet=req.tablet, edge_state=edge_state,
                                   edge_reason=edge_reason, now=req.now)
        return Registration(view.today, "same_day_existing")
    owner_id, owner_name = view.owner_id, view.owner_name
    if owner_id is None and consultant is not None:  # first receiver owns (provisionally)
        owner_id, owner_name = consultant.id, consultant.name
    visit_id, event_id = uuid.uuid4(), uuid.uuid4()
    payload = VisitRegistered(
        visit_id=visit_id,
        project_id=req.project_id,
        phone=req.phone,
        name=data.name,
        party_size=data.party_size,
        intent=data.intent,
        source="channel" if req.guide is not None or pick is not None else data.source,
        consultant_id=data.consultant_id,
        provisional_first_visit=view.classification == FIRST_VISIT,
        consent=req.consent,
        edge_attribution=answer.up if answer else None,
    )
    seq = await outbox.append(
        session,
        settings.cipher,
        event_type=VISIT_REGISTERED,
        event_id=event_id,
        occurred_at=req.now,
        payload=payload.model_dump(mode="json"),
        now=req.now,
    )
    visit = Visit(
        id=visit_id,
        project_id=req.project_id,
        phone_enc=settings.cipher.encrypt(req.phone, context=PHONE_CONTEXT),
        phone_bidx=req.phone_bidx,
        phone_masked=mask_phone(req.phone),
        name_enc=(
            settings.cipher.encrypt(data.name, context=NAME_CONTEXT) if data.name else None
        ),
        party_size=data.party_size,
        intent_enc=(
            settings.cipher.encrypt(data.intent, context=INTENT_CONTEXT) if data.intent else None
        ),
        source=data.source,
        consultant_id=data.consultant_id,
        occurred_at=req.now,
        visit_date=shanghai_date(req.now).isoformat(),
        classification=view.classification,
        provisional=view.provisional,
        visit_number=view.prior_visits + 1,
        owner_id=owner_id,
        owner_name=owner_name,
        idempotency_key=req.key,
        seq=seq,
        event_id=event_id,
        consent_notice_version=req.consent.notice_version,
        consent_method=req.consent.method,
        consent_accepted_at=req.consent.accepted_at,
        consent_recorded_at=req.consent.recorded_at,
        consent_tablet=req.consent.tablet,
        attribution=answer.shown if answer else None,
        phone_region=phone_region(req.phone),
    )
    # Read before the visit is added: a query would flush it, and a walk-in's profile
    # and turn then cost an UPDATE after its INSERT.
    rota = await rota_queue.rota_of(session, settings)
    session.add(visit)
    if req.guide is not None:
        await session.flush()
        await guided.use(session, settings, req.guide, phone=req.phone, visit=visit,
                         edge_state=edge_state, edge_reason=edge_reason, now=req.now)
        await session.flush()
    elif pick is not None:
        await session.flush()
        await manual_guide.use(session, settings, pick, phone=req.phone, visit=visit,
                               tablet=req.tablet, edge_state=edge_state,
                               edge_reason=edge_reason, now=req.now)
        await session.flush()
    await reception.after_registration(session, visit, data.profile or VisitProfile(),
                                       data.forgot_consultant, rota, req.now)
    crash_point("in_outbox_tx")
    return Registration(visit, "created")


async def _key_used(session: AsyncSession, key: str) -> bool:
    return (await session.exec(select(Visit.id).where(Visit.idempotency_key == key))
            ).first() is not None


async def register_visit(
    store: Store,
    settings: EdgeSettings,
    data: VisitIn,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    tablet: str = "local",
) -> Registration:
    """Register a walk-in; the visit and its outbox event commit together or not at all.

    `data.consent` is required (ConsentRequired / UnknownNoticeVersion otherwise);
    `tablet` names the kiosk device (the HTTP route passes its LAN address; callers
    without one, e.g. the benchmark, say "local").

    A retry with the same idempotency key returns the same visit; a second registration of
    the same customer (project + phone) on the same Asia/Shanghai day returns that day's
    visit. Neither writes a second event. `now` (UTC, aware) is for tests and replays.
    """
    phone = normalise_phone(data.phone)
    at = now or utcnow()
    consent = consent_of(data, tablet=tablet, now=at)
    if data.qr_code is not None and data.guide_referral_id is not None:
        raise manual_guide.GuideWithQr()
    key = idempotency_key or uuid.uuid4().hex
    guide = None
    # A retry of a guided registration that went through (its answer lost on the way)
    # finds its visit by the key: the code it used is not checked again.
    if data.qr_code is not None and not await store.read(_key_used, key):
        kiosk_project = data.project_id or settings.default_project_id
        claims, _ = await guided.verify(store, settings, data.qr_code,
                                        project_id=kiosk_project or 0, now=at)
        guide = guided.Guide(claims, data.qr_code)
        if data.project_id is not None and data.project_id != claims.pid:
            error = qr.QrWrongProject(extra={"project_id": claims.pid})
            await guided.record_refusal(store, settings, token=data.qr_code,
                                        project_id=data.project_id, error=error)
            raise error
    project_id = guide.claims.pid if guide is not None and data.project_id is None else (
        resolve_project(settings, data.project_id))
    req = _Request(
        data=data,
        phone=phone,
        phone_bidx=settings.blind_index.phone(phone),
        project_id=project_id,
        key=key,
        now=at,
        consent=consent,
        guide=guide,
        tablet=tablet,
    )
    try:
        result = await store.write(_register_tx, settings, req)
    except qr.QrRefused as error:  # used by another tablet meanwhile, or another number
        assert data.qr_code is not None
        await guided.record_refusal(store, settings, token=data.qr_code,
                                    project_id=project_id, error=error)
        raise
    if result.created:
        crash_point("after_outbox_commit")
        store.outbox_committed()
    return result
