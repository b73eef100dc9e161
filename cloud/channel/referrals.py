"""Referrals (报备): submission decided at once by the attribution engine, and reading.

A refused referral is a business outcome, not an error: it is stored `invalid` with its
reason and answered like an accepted one. Times are the server's. Submissions of one
number at one project are serialised (history.lock), so of many brokers referring one
customer at the same instant exactly one is judged first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import (
    feed_items,
    history,
    project_config,
    referral_context,
    risk_cases,
    risk_findings,
    rules,
    scopes,
)
from cloud.channel.errors import (
    BrokerInactive,
    IdempotencyKeyReused,
    ProjectClosedToAgency,
    ProjectNotFound,
    ReferralNotFound,
)
from cloud.channel.models import Broker, Referral
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from shared import attribution as engine
from shared.attribution.outcome import ReferralOutcome
from shared.timeutil import utcnow

LIVE_STATES = ("pending", "confirmed")


@dataclass(frozen=True)
class Submission:
    project_id: int
    phone: str
    name: str
    customer_group: str
    idempotency_key: str | None


@dataclass(frozen=True)
class Submitted:
    referral: Referral
    replayed: bool  # the answer of an earlier request with the same key


# The earlier referral of the same idempotency key, if any, and the broker's referrals
# still live (pending or confirmed, window not over): one statement, after the locks.
_EARLIER_AND_LIVE = select(
    select(Referral.id).where(
        col(Referral.broker_id) == bindparam("broker"),
        col(Referral.idempotency_key) == bindparam("key")).scalar_subquery(),
    select(func.count()).select_from(Referral).where(
        col(Referral.broker_id) == bindparam("broker"), col(Referral.state).in_(LIVE_STATES),
        or_(col(Referral.protection_until).is_(None),
            col(Referral.protection_until) > bindparam("now")),
    ).scalar_subquery())


def submit(session: Session, *, principal: Principal, settings: CloudSettings,
           broker: Broker, data: Submission) -> Submitted:
    """`broker`'s referral, for callers that hold the broker's row."""
    return submit_as(session, principal=principal, settings=settings,
                     user_id=broker.user_id, data=data)


def submit_as(session: Session, *, principal: Principal, settings: CloudSettings,
              user_id: int, data: Submission,
              admit: Callable[[int], None] | None = None) -> Submitted:
    """The referral of the broker who is user `user_id`. `admit(broker id)` is called
    once the broker is known and before any work (the per-broker rate limit)."""
    context = referral_context.read(session, user_id=user_id, project_id=data.project_id)
    if context is None:
        raise BrokerInactive()
    if admit is not None:
        admit(context.broker_id)
    if not context.project_found:
        raise ProjectNotFound()
    if not context.may_refer:
        raise BrokerInactive()
    if not context.cooperating:
        raise ProjectClosedToAgency()
    number = history.number_of(settings, data.phone)
    key = data.idempotency_key or uuid.uuid4().hex
    history.lock(session, f"channel:idem:{context.broker_id}:{key}",
                 *history.lock_keys(data.project_id, number))
    now = utcnow()
    earlier_id, live = session.execute(_EARLIER_AND_LIVE, {
        "broker": context.broker_id, "key": key, "now": now}).one()
    if earlier_id is not None:
        earlier = session.get(Referral, earlier_id)
        assert earlier is not None
        same = (earlier.project_id, earlier.phone_bidx, earlier.phone_given) == (
            data.project_id, number.bidx, None if number.full else number.given)
        if not same:
            raise IdempotencyKeyReused()
        return Submitted(earlier, replayed=True)
    row = Referral(
        project_id=data.project_id, broker_id=context.broker_id, agency_id=context.agency_id,
        customer_group=data.customer_group,
        name_enc=settings.cipher.encrypt(data.name, context=history.REFERRAL_NAME_CONTEXT),
        phone_enc=settings.cipher.encrypt(number.full, context=history.REFERRAL_PHONE_CONTEXT)
        if number.full else None,
        phone_bidx=number.bidx, phone_given=None if number.full else number.given,
        phone_masked=number.shown, phone34_bidx=number.key34, phone7_bidx=number.key7,
        state="pending", reason_code=engine.ReasonCode.PENDING_CONFIRMATION.value,
        rule_version=0, broker_live_referrals=live,
        team=context.team if context.agency_id is not None else None,
        idempotency_key=key, created_at=now, decided_at=now,
    )
    # Judged before it is stored, so it is inserted once with its outcome.
    outcome, people = _judge(
        session, settings=settings, row=row, as_of=now,
        rules_history=project_config.rules_history(session, data.project_id,
                                                   context.rules_stamp),
        submitted=(history.submitted_event(row, number, data.name), number))
    apply_outcome(row, outcome, now)
    session.add(row)
    session.flush()
    risk_cases.at_referral(
        session, settings=settings, referral=row, principal=principal, known=_known(people),
        policy=project_config.policy(session, data.project_id, context.policy_stamp))
    audit_service.record(
        session, action="channel.referral_submit", principal=principal,
        object_type="channel_referral", object_id=str(row.id),
        detail={"project_id": row.project_id, "phone": row.phone_masked, "state": row.state,
                "reason": row.reason_code, "rule_version": row.rule_version})
    # Last: the append holds the site's feed (its link row) to the commit, and every
    # submission at the site, the sync consumer and the site's down requests queue there.
    if row.state in LIVE_STATES:  # one refused at once was never the appliance's to know
        feed_items.announce_referrals(session, settings, [row])
    return Submitted(row, replayed=False)


def _known(people: list[history.Gathered]) -> risk_findings.Known | None:
    """What judging a full number already read, for its risk checks."""
    if len(people) != 1 or people[0].full is None:
        return None
    return risk_findings.Known(customer=people[0].customer, referrals=people[0].referrals)


def decide(session: Session, *, settings: CloudSettings, row: Referral,
           as_of: datetime) -> ReferralOutcome:
    """The engine's answer for `row` as of `as_of`. A masked number that may be one of
    several people is judged against each; a refusal by any of them stands."""
    return _judge(session, settings=settings, row=row, as_of=as_of)[0]


def _judge(session: Session, *, settings: CloudSettings, row: Referral, as_of: datetime,
           rules_history: engine.RulesHistory | None = None,
           submitted: tuple[engine.Referral, history.Number] | None = None,
           ) -> tuple[ReferralOutcome, list[history.Gathered]]:
    """`decide`, and the histories it judged against. A row not stored yet (no id) is
    judged as history.NEW_REFERRAL and has no reviews. `rules_history`: the project's,
    when the caller has it already; `submitted`: the event and number of a referral
    being submitted, as the broker sent them."""
    if submitted is None:
        event = history.referral_event(settings, row)
        number = history.number_of(settings, event.phone)
    else:
        event, number = submitted
    rules_history = rules_history or rules.history(session, row.project_id)
    # The referral's reviews and overrides: people's decisions the engine reads as facts
    # (a referral not stored yet has none).
    own: list[engine.Event] = [event]
    if row.id is not None:
        own += history.reviews_of(session, [row.id])
    people = history.gather(session, settings=settings, project_id=row.project_id,
                            number=number, exclude=row.id)
    outcome: ReferralOutcome | None = None
    for person in people:
        decision = engine.decide(rules.from_start(rules_history, [*person.events, *own]),
                                 [*person.events, *own], as_of)
        outcome = decision.referral(event.id)
        if outcome.state == "invalid":
            break
    assert outcome is not None
    return outcome, people


def apply_outcome(row: Referral, outcome: ReferralOutcome, now: datetime) -> None:
    row.state = outcome.state
    row.reason_code = outcome.reason.code.value
    own = history.NEW_REFERRAL if row.id is None else f"referral:{row.id}"
    row.evidence = [e for e in outcome.reason.evidence if e != own]
    row.rule_version = outcome.reason.rule_version
    row.protection_until = outcome.protection_until
    row.decided_at = now


@dataclass(frozen=True)
class ReferralFilters:
    project_id: int | None = None
    state: str | None = None
    broker_id: int | None = None
    agency_id: int | None = None
    reason_code: str | None = None


def list_referrals(session: Session, *, principal: Principal, filters: ReferralFilters,
                   limit: int, before_id: int | None) -> list[Referral]:
    query = select(Referral).where(scopes.referral_scope(session, principal))
    for column, value in ((Referral.project_id, filters.project_id),
                          (Referral.state, filters.state),
                          (Referral.broker_id, filters.broker_id),
                          (Referral.agency_id, filters.agency_id),
                          (Referral.reason_code, filters.reason_code)):
        if value is not None:
            query = query.where(col(column) == value)
    if before_id is not None:
        query = query.where(col(Referral.id) < before_id)
    return list(session.exec(query.order_by(col(Referral.id).desc()).limit(limit)).all())


def get(session: Session, *, principal: Principal, referral_id: int) -> Referral:
    row = session.exec(select(Referral).where(
        Referral.id == referral_id, scopes.referral_scope(session, principal))).first()
    if row is None:
        raise ReferralNotFound()
    return row
