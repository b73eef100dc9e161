"""扫码带看 at the kiosk: a broker's QR code verified offline with the cloud's public keys
(signature, expiry, a project of this site), used once (its nonce stored here), and the
provisional answer (判客) the appliance gives from its caches until the cloud decides.

A refused code is recorded as a `channel.qr_refused` event in a transaction of its own,
so the cloud sees attempts even though the registration itself writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.kiosk.lookup import CustomerView
from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.guided import ChannelRules, QrKey, QrNonce, ReferralCache
from edge_agent.store.models.reception import Visit
from edge_agent.store.models.site import Project
from shared import attribution as engine
from shared import qr
from shared.attribution.render import local
from shared.attribution.summary import summarise
from shared.events import (
    QR_CHECKED_IN,
    QR_REFUSED,
    ProvisionalAnswer,
    QrCheckedIn,
    QrRefused,
)
from shared.timeutil import utcnow

log = structlog.get_logger()
RULES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # as the cloud's defaults (channel/rules.py)
INDIVIDUAL = "individual"
# The appliance holds no referred names; a cached referral is one the cloud accepted, its
# name already checked there, so the engine is given a name that passes the check.
NAME_CHECKED_AT_CLOUD = "已核验"
OVERRIDE_CODES = frozenset({"appeal_upheld", "risk_voided", "risk_blocked"})


@dataclass(frozen=True)
class Guide:
    """A verified code: whose referral it names, and the code's own text (for refusals)."""

    claims: qr.QrClaims
    token: str


@dataclass(frozen=True)
class Pick:
    """A broker picked by hand (带看 without a code): one of the cached live referrals of
    the visitor's number (edge_agent.kiosk.manual_guide)."""

    referral_id: int
    broker_id: int
    agency_id: int | None


async def _verify_tx(session: AsyncSession, settings: EdgeSettings, token: str,
                     now: datetime) -> tuple[qr.QrClaims, ReferralCache | None]:
    keys = {k.kid: qr.load_public_key(k.public_key) for k in (await session.exec(
        select(QrKey).where(col(QrKey.active).is_(True)))).all()}
    projects = {p.id for p in (await session.exec(
        select(Project).where(col(Project.active).is_(True)))).all()}
    if settings.default_project_id is not None:
        projects.add(settings.default_project_id)
    claims = qr.verify(token, keys, now=now, project_ids=projects)
    if await session.get(QrNonce, claims.n) is not None:
        raise qr.QrReplayed()
    cached = await session.get(ReferralCache, str(claims.rid))
    if cached is not None and (not cached.is_live(now) or cached.broker_id != claims.bid):
        raise qr.QrReferralUnknown(extra={"state": cached.state})
    return claims, cached


async def _refusal_tx(session: AsyncSession, settings: EdgeSettings, event: QrRefused,
                      now: datetime) -> None:
    await outbox.append(session, settings.cipher, event_type=QR_REFUSED,
                        event_id=uuid.uuid4(), occurred_at=now,
                        payload=event.model_dump(mode="json"), now=now)


async def record_refusal(store: Store, settings: EdgeSettings, *, token: str,
                         project_id: int, error: qr.QrRefused) -> None:
    """Keep a refused code's attempt: its unverified claims when readable, its hash."""
    if project_id < 1:  # no project chosen nor configured: the cloud could not place it
        log.warning("qr_refused_unrecorded", code=error.code)
        return
    try:
        claims: qr.QrClaims | None = qr.read_claims(token)
    except qr.QrMalformed:
        claims = None
    event = QrRefused(
        project_id=project_id, code=error.code,
        referral_id=claims.rid if claims else None, broker_id=claims.bid if claims else None,
        key_id=claims.kid if claims else None, nonce=claims.n if claims else None,
        token_sha256=qr.token_digest(token))
    await store.write(_refusal_tx, settings, event, utcnow())
    store.outbox_committed()
    log.warning("qr_refused", code=error.code, referral_id=event.referral_id)


async def verify(store: Store, settings: EdgeSettings, token: str, *, project_id: int,
                 now: datetime | None = None) -> tuple[qr.QrClaims, ReferralCache | None]:
    """The claims of a code this appliance accepts now; a refusal is recorded, then
    raised (QrRefused and its subclasses: stable codes, Chinese messages)."""
    try:
        return await store.read(_verify_tx, settings, token, now or utcnow())
    except qr.QrRefused as error:
        await record_refusal(store, settings, token=token, project_id=project_id, error=error)
        raise


async def use(session: AsyncSession, settings: EdgeSettings, guide: Guide, *,
              phone: str, visit: Visit, edge_state: str | None, edge_reason: str | None,
              now: datetime) -> None:
    """Inside the registration's transaction: the nonce stored (a second use refused), the
    visit marked guided, and the check-in event after the visit's own."""
    claims = guide.claims
    if await session.get(QrNonce, claims.n) is not None:
        raise qr.QrReplayed()  # another tablet used it a moment ago
    if claims.pk is not None and qr.phone_key(settings.blind_index, phone) != claims.pk:
        raise qr.QrPhoneMismatch()
    session.add(QrNonce(nonce=claims.n, referral_id=claims.rid, broker_id=claims.bid,
                        visit_id=visit.id, used_at=now, expires_at=claims.expires_at))
    visit.broker_id, visit.referral_id, visit.source = claims.bid, claims.rid, "channel"
    visit.guide_method = "qr"
    session.add(visit)
    event = QrCheckedIn(
        visit_id=visit.id, project_id=visit.project_id, referral_id=claims.rid,
        broker_id=claims.bid, key_id=claims.kid, nonce=claims.n,
        expires_at=claims.expires_at, phone=phone,
        edge_state=edge_state,
        edge_reason=edge_reason)
    await outbox.append(session, settings.cipher, event_type=QR_CHECKED_IN,
                        event_id=uuid.uuid4(), occurred_at=now,
                        payload=event.model_dump(mode="json"), now=now)


# -- the provisional answer ------------------------------------------------------------

async def _rules(session: AsyncSession, project_id: int) -> engine.RulesHistory:
    rows = (await session.exec(select(ChannelRules).where(
        ChannelRules.project_id == project_id, col(ChannelRules.active).is_(True))
        .order_by(col(ChannelRules.version)))).all()
    versions = [engine.RuleSet.model_validate({
        **r.rules, "version": r.version, "effective_from": r.effective_from,
        "project_id": str(project_id)}) for r in rows]
    return engine.RulesHistory(versions=tuple(versions) or (engine.RuleSet(
        version=1, effective_from=RULES_EPOCH, project_id=str(project_id)),))


def _from_start(history: engine.RulesHistory, times: list[datetime]) -> engine.RulesHistory:
    """As the cloud does (channel/referrals.py): facts older than the first rule version
    are judged by it — there were no other rules then."""
    first = history.versions[0]
    if not times or min(times) >= first.effective_from:
        return history
    moved = first.model_copy(update={"effective_from": min(times)})
    return engine.RulesHistory(versions=(moved, *history.versions[1:]))


async def _history(session: AsyncSession, settings: EdgeSettings, view: CustomerView,
                   phone: str, now: datetime) -> list[engine.Event]:
    """The customer as this appliance knows them: the live referrals of the number's 3+4
    key, the cloud's visit summary, and this office's own visits (the view's rows)."""
    project_id = view.project_id
    key = qr.phone_key(settings.blind_index, phone)
    events: list[engine.Event] = []
    for r in (await session.exec(select(ReferralCache).where(
            ReferralCache.project_id == project_id, ReferralCache.phone_key == key,
            ReferralCache.live(now)))).all():
        events.append(engine.Referral(
            id=f"referral:{r.id}", at=r.created_at, project_id=str(project_id),
            broker_id=str(r.broker_id), agency_id=str(r.agency_id) if r.agency_id else INDIVIDUAL,
            # Found by the typed number's key: a referral made with the full number was
            # made with this one.
            phone=r.phone_masked if r.masked else phone, name=NAME_CHECKED_AT_CLOUD))
        if r.reason_code in OVERRIDE_CODES and r.state in ("pending", "confirmed"):
            # A person's decision at the cloud (an upheld appeal) stands here too. The
            # cache does not keep when it was made: it is placed at the referral's own
            # instant (an override sorts after the facts of its instant).
            events.append(engine.Override(
                id=f"override:referral:{r.id}", at=r.created_at,
                referral_id=f"referral:{r.id}", state=r.state,
                code=r.reason_code))
    cache = view.cache
    if cache is not None and cache.first_visit_at is not None:
        owner = str(cache.owner_id) if cache.owner_id else None
        events.append(engine.Visit(id="cloud:first", at=cache.first_visit_at,
                                   consultant_id=owner))
        if cache.last_visit_at and cache.last_visit_at != cache.first_visit_at:
            events.append(engine.Visit(id="cloud:last", at=cache.last_visit_at,
                                       consultant_id=owner))
    seen = cache.last_visit_at if cache is not None else None
    for v in view.local:
        if seen is not None and v.occurred_at <= seen:
            continue
        consultant = str(v.consultant_id) if v.consultant_id else None
        events.append(
            engine.QrCheckIn(id=f"visit:{v.id}", at=v.occurred_at, broker_id=str(v.broker_id),
                             consultant_id=consultant, phone=phone)
            if v.broker_id and v.guide_method != "manual" else
            # A broker picked by hand is a guided visit (渠道带访) that completes no mask.
            engine.Visit(id=f"visit:{v.id}", at=v.occurred_at, consultant_id=consultant,
                         broker_id=str(v.broker_id) if v.broker_id else None))
    return events


@dataclass(frozen=True)
class Answer:
    """What the kiosk shows, and what the check-in event carries for the referral."""

    shown: dict[str, Any]
    referral_state: str | None
    referral_reason: str | None
    up: ProvisionalAnswer  # what the registration's event carries to the cloud


async def provisional(session: AsyncSession, settings: EdgeSettings, *, view: CustomerView,
                      phone: str, guide: Guide | None, consultant_id: int | None,
                      now: datetime, pick: Pick | None = None) -> Answer | None:
    """首访/复访, owner and broker protection before this visit; with a QR code or a
    broker picked by hand, the referral's state once the guided visit is counted. None
    when the caches cannot be judged (the cloud decides anyway)."""
    try:
        events = await _history(session, settings, view, phone, now)
        history = _from_start(await _rules(session, view.project_id), [e.at for e in events])
        before = engine.provisional_answer(history, events, now)
        state = reason = None
        consultant = str(consultant_id) if consultant_id else None
        guided_visit: engine.Event | None = None
        referral_id = None
        if guide is not None:
            referral_id = guide.claims.rid
            guided_visit = engine.QrCheckIn(
                id="visit:new", at=now, broker_id=str(guide.claims.bid), phone=phone,
                consultant_id=consultant)
        elif pick is not None:
            referral_id = pick.referral_id
            guided_visit = engine.Visit(
                id="visit:new", at=now, broker_id=str(pick.broker_id),
                agency_id=str(pick.agency_id) if pick.agency_id else INDIVIDUAL,
                consultant_id=consultant)
        if guided_visit is not None:
            after = engine.decide(history, [*events, guided_visit], now)
            outcome = next((r for r in after.referrals
                            if r.referral_id == f"referral:{referral_id}"), None)
            if outcome is not None:
                state, reason = outcome.state, outcome.reason.code.value
    except (engine.AttributionInputError, ValidationError, ValueError) as exc:
        log.warning("provisional_answer_failed", error=str(exc)[:200])
        return None
    owner = before.owner
    shown = {
        "label": before.label, "first_visit": before.first_visit,
        "owner_kind": owner.kind,
        "owner_broker_id": int(owner.broker_id) if owner.broker_id else None,
        "owner_reason": owner.reason.text,
        "protection_until": local(owner.protection_until) if owner.protection_until else None,
        "brokers": [{"referral_id": int(r.referral_id.split(":")[1]),
                     "broker_id": int(r.broker_id), "state": r.state,
                     "protection_until": local(r.protection_until)
                     if r.protection_until else None}
                    for r in before.broker_protection],
        "rule_version": before.rule_version,
        "referral_state": state, "referral_reason": reason,
        "referral_reason_text": engine.REASON_TEXT[engine.ReasonCode(reason)]
        if reason else None,
    }
    return Answer(shown=shown, referral_state=state, referral_reason=reason,
                  up=summarise(before))
