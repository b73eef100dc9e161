"""Kiosk routes (thin): registration, today's visits, customer look-up, consultants, status."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status

from edge_agent.kiosk import guided, listings, lookup_guard, manual_guide, service
from edge_agent.kiosk.deps import KioskAuth, SettingsDep, StoreDep
from edge_agent.kiosk.lookup import resolve_project
from edge_agent.kiosk.schemas import (
    ConsultantOut,
    CustomerLookupOut,
    GuideCandidateOut,
    KioskStatusOut,
    ProjectOut,
    QrCodeIn,
    QrCodeOut,
    RegistrationOut,
    VisitIn,
    VisitOut,
)
from edge_agent.settings import EdgeSettings
from edge_agent.store import outbox
from edge_agent.store.models.reception import Visit
from edge_agent.sync.agent import SyncAgent
from shared.bounds import DB_INT_MAX
from shared.errors import ValidationFailed
from shared.names import mask_name
from shared.reception_events import VisitProfile

router = APIRouter(prefix="/kiosk", tags=["kiosk"], dependencies=[KioskAuth])

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:\-]{8,128}")
_MESSAGES = {
    ("created", "first_visit"): "首访登记成功",
    ("created", "return_visit"): "复访登记成功",
    ("replayed", "first_visit"): "该登记已提交过，返回原登记结果",
    ("replayed", "return_visit"): "该登记已提交过，返回原登记结果",
    ("same_day_existing", "first_visit"): "该客户今日已登记到访，同一天只记一次到访",
    ("same_day_existing", "return_visit"): "该客户今日已登记到访，同一天只记一次到访",
}


class IdempotencyKeyRequired(ValidationFailed):
    code = "idempotency_key_required"
    title = "缺少或无效的 Idempotency-Key 请求头（8–128 位字母、数字或 _ . : -）"


def tablet_of(request: Request) -> str:
    """The kiosk tablet as the edge knows it. Every tablet of a site shares the kiosk
    token, so there is no device id to name it by: its address on the office LAN is the
    identity (the look-up limiter and the look-up audit use the same)."""
    return request.client.host if request.client else "unknown"


def visit_out(visit: Visit, settings: EdgeSettings) -> VisitOut:
    name = (
        settings.cipher.decrypt(visit.name_enc, context=service.NAME_CONTEXT)
        if visit.name_enc
        else None
    )
    return VisitOut(
        id=visit.id,
        project_id=visit.project_id,
        phone_masked=visit.phone_masked,
        name_masked=mask_name(name),
        party_size=visit.party_size,
        intent=settings.cipher.decrypt(visit.intent_enc, context=service.INTENT_CONTEXT)
        if visit.intent_enc else None,
        source=visit.source,
        consultant_id=visit.consultant_id,
        occurred_at=visit.occurred_at,
        visit_date=date.fromisoformat(visit.visit_date),
        classification=visit.classification,
        provisional=visit.provisional,
        visit_count=visit.visit_number,
        owner_id=visit.owner_id,
        owner_name=visit.owner_name,
        seq=visit.seq,
        broker_id=visit.broker_id,
        referral_id=visit.referral_id,
        guide_method=visit.guide_method,
        attribution=visit.attribution,
        profile=VisitProfile.model_validate(visit.profile or {}),
        profile_revision=visit.profile_revision,
        consumed_turn=visit.consumed_turn,
        stand_in_for=visit.stand_in_for,
        stand_in_share=visit.stand_in_share,
        claimable_until=date.fromisoformat(visit.claimable_until)
        if visit.claimable_until else None,
        phone_region=visit.phone_region,
    )


@router.post(
    "/visits",
    response_model=RegistrationOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RegistrationOut, "description": "replay or same-day visit"}},
)
async def register_visit(
    body: VisitIn,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> RegistrationOut:
    if idempotency_key is None or not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise IdempotencyKeyRequired()
    result = await service.register_visit(
        store, settings, body, idempotency_key=idempotency_key, tablet=tablet_of(request))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    out = visit_out(result.visit, settings)
    return RegistrationOut(
        **out.model_dump(),
        outcome=result.outcome,
        same_day=result.outcome == "same_day_existing",
        message=_MESSAGES[(result.outcome, out.classification)],
    )


@router.post("/qr/verify", response_model=QrCodeOut,
             responses={422: {"description":
                               "二维码无效：伪造、过期、已使用或不属于本案场（已记录）"}})
async def verify_qr(body: QrCodeIn, request: Request, store: StoreDep,
                    settings: SettingsDep) -> QrCodeOut:
    """Check a broker's 扫码带看 code before registering the visit; the code is used only
    by the registration that carries it. Counted with the tablet's look-ups: a refusal
    writes an event, so a flood of guesses must not fill the outbox."""
    request.app.state.lookup_limiter.check(tablet_of(request))
    project_id = body.project_id or settings.default_project_id or 0
    claims, cached = await guided.verify(store, settings, body.code, project_id=project_id)
    return QrCodeOut(
        referral_id=claims.rid, broker_id=claims.bid, project_id=claims.pid,
        phone_masked=cached.phone_masked if cached else None,
        referral_state=cached.state if cached else None,
        protection_until=cached.protection_until if cached else None,
        expires_at=claims.expires_at)


@router.get("/guides", response_model=list[GuideCandidateOut])
async def guide_candidates(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    phone: Annotated[str, Query(min_length=1, max_length=40)],
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
) -> list[GuideCandidateOut]:
    """带看 without a code: the brokers with a live referral of this number here, to pick
    the one who brought the visitor (offline too). Counted and audited as a look-up: it
    tells who referred a number."""
    await lookup_guard.lookup(store, settings, request.app.state.lookup_limiter,
                              tablet=tablet_of(request), phone_raw=phone, project_id=project_id)
    rows = await manual_guide.candidates(
        store, settings, project_id=resolve_project(settings, project_id),
        phone_raw=phone)
    return [GuideCandidateOut(
        referral_id=r.id, broker_id=r.broker_id, broker_name=r.broker_name,
        broker_phone_masked=r.broker_phone_masked, agency_name=r.agency_name,
        phone_masked=r.phone_masked, masked=r.masked, referral_state=r.state,
        protection_until=r.protection_until, created_at=r.created_at) for r in rows]


@router.get("/visits", response_model=list[VisitOut])
async def todays_visits(
    store: StoreDep,
    settings: SettingsDep,
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
) -> list[VisitOut]:
    visits = await listings.visits_on_day(store, project_id=project_id)
    return [visit_out(v, settings) for v in visits]


@router.get("/customers/lookup", response_model=CustomerLookupOut)
async def lookup_customer(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    phone: Annotated[str, Query(min_length=1, max_length=40)],
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
) -> CustomerLookupOut:
    view, masked = await lookup_guard.lookup(
        store, settings, request.app.state.lookup_limiter,
        tablet=tablet_of(request),
        phone_raw=phone, project_id=project_id)
    return CustomerLookupOut(
        project_id=view.project_id,
        phone_masked=masked,
        known=view.known,
        classification=view.classification,
        provisional=view.provisional,
        visit_count=view.prior_visits,
        visited_today=view.today is not None,
        owner_id=view.owner_id,
        owner_name=view.owner_name,
        last_visit_at=view.last_visit_at,
        protection_until=view.protection_until,
    )


@router.get("/projects", response_model=list[ProjectOut])
async def projects(store: StoreDep, settings: SettingsDep) -> list[ProjectOut]:
    default = settings.default_project_id
    return [
        ProjectOut(id=p.id, name=p.name, city=p.city, is_default=p.id == default)
        for p in await listings.active_projects(store)
    ]


@router.get("/consultants", response_model=list[ConsultantOut])
async def consultants(store: StoreDep) -> list[ConsultantOut]:
    return [
        ConsultantOut(id=c.id, name=c.name, roles=list(c.roles))
        for c in await listings.receiving_consultants(store)
    ]


def _cloud_link(agent: SyncAgent | None) -> Literal["online", "offline", "stalled", "refused"]:
    if agent is None or not agent.online:
        return "offline"
    state = agent.up.link_state
    if state == "ok":
        return "online"
    return "stalled" if state == "stalled" else "refused"


@router.get("/status", response_model=KioskStatusOut)
async def kiosk_status(request: Request, store: StoreDep) -> KioskStatusOut:
    backlog = await store.read(outbox.backlog)
    agent = request.app.state.sync_agent
    return KioskStatusOut(
        cloud_link=_cloud_link(agent),
        storage_full=store.storage_full,
        sync_enabled=agent is not None,
        backlog=backlog.count,
        last_acked_seq=backlog.last_acked_seq,
        last_ack_at=backlog.last_ack_at,
        oldest_unacked_at=backlog.oldest_created_at,
        clock_skew_seconds=backlog.clock_skew_seconds,
        down_cursor=backlog.down_cursor,
    )
