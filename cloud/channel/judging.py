"""The engine's answers in the console's terms: database ids, people's names, Chinese
texts. Shared by the "why" answer (explain.py) and the what-if (whatif.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from cloud.channel.appeal_models import ReferralOverride
from cloud.channel.judging_schemas import (
    ChangeOut,
    FactOut,
    OwnerOut,
    ReasonOut,
    ReferralStateOut,
    RuleChangeOut,
    StepOut,
)
from cloud.channel.models import Agency, Broker
from cloud.channel.partners import user_names
from cloud.identity.models import User
from shared import attribution as engine
from shared.attribution.masks import display
from shared.attribution.render import KIND_TEXT, STATE_TEXT
from shared.names import mask_name

_SERVER_FIELDS = {"version", "effective_from", "project_id"}


def db_id(value: str | None) -> int | None:
    """The database id in an engine id: "12" → 12, "referral:12" → 12; None for ids that
    name no row ("individual", the agency of an individual referrer)."""
    if value is None:
        return None
    tail = value.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def referral_id(event_id: str) -> int:
    found = db_id(event_id)
    assert found is not None, event_id
    return found


class Names:
    """Display names of the brokers, agencies and staff a set of decisions mentions,
    loaded in three queries."""

    def __init__(self, session: Session, events: Iterable[engine.Event],
                 decisions: Iterable[engine.Decision]) -> None:
        brokers: set[int] = set()
        agencies: set[int] = set()
        users: set[int] = set()

        def note(broker: str | None = None, agency: str | None = None,
                 user: str | None = None) -> None:
            for ids, value in ((brokers, broker), (agencies, agency), (users, user)):
                found = db_id(value)
                if found is not None:
                    ids.add(found)

        events = list(events)
        for ev in events:
            note(getattr(ev, "broker_id", None), getattr(ev, "agency_id", None),
                 getattr(ev, "consultant_id", None) or getattr(ev, "actor_id", None))
        for decision in decisions:
            for owner in [decision.owner, *(s.owner for s in decision.trace)]:
                note(owner.broker_id, owner.agency_id, owner.consultant_id)
            for ref in decision.referrals:
                note(ref.broker_id, ref.agency_id)
        self._brokers = _named(session.exec(
            select(Broker.id, User.display_name).join(User, col(User.id) == Broker.user_id)
            .where(col(Broker.id).in_(brokers))).all()) if brokers else {}
        self._agencies = _named(session.exec(
            select(Agency.id, Agency.name).where(col(Agency.id).in_(agencies))).all()
        ) if agencies else {}
        # Who decided each override, and why (the engine's event names only the state).
        ids = [found for e in events if isinstance(e, engine.Override)
               and (found := db_id(e.id)) is not None]
        self.overrides = {f"override:{o.id}": o for o in session.exec(
            select(ReferralOverride).where(col(ReferralOverride.id).in_(ids))).all()
        } if ids else {}
        users |= {o.decided_by for o in self.overrides.values()}
        self._users = user_names(session, users)

    def broker(self, value: str | None) -> str | None:
        found = db_id(value)
        return self._brokers.get(found) if found is not None else None

    def agency(self, value: str | None) -> str | None:
        found = db_id(value)
        return self._agencies.get(found) if found is not None else None

    def user(self, value: str | None) -> str | None:
        found = db_id(value)
        return self._users.get(found) if found is not None else None


def _named(rows: Iterable[tuple[int | None, str]]) -> dict[int, str]:
    return {key: name for key, name in rows if key is not None}


def reason_out(reason: engine.Reason) -> ReasonOut:
    return ReasonOut(code=reason.code.value, text=reason.text, evidence=list(reason.evidence),
                     rule_version=reason.rule_version)


def owner_out(owner: engine.Owner, names: Names) -> OwnerOut:
    return OwnerOut(
        kind=owner.kind, broker_id=db_id(owner.broker_id),
        broker_name=names.broker(owner.broker_id),
        agency_id=db_id(owner.agency_id), agency_name=names.agency(owner.agency_id),
        referral_id=db_id(owner.referral_id), stage=owner.stage,
        protection_until=owner.protection_until, consultant_id=db_id(owner.consultant_id),
        consultant_name=names.user(owner.consultant_id),
        consultant_protection_until=owner.consultant_protection_until,
        in_public_pool=owner.in_public_pool, reason=reason_out(owner.reason))


def change_out(change: engine.Change) -> ChangeOut:
    return ChangeOut(referral_id=referral_id(change.referral_id), state=change.state,
                     state_text=STATE_TEXT[change.state], reason=reason_out(change.reason))


def referral_state_out(ref: engine.ReferralOutcome, names: Names) -> ReferralStateOut:
    return ReferralStateOut(
        referral_id=referral_id(ref.referral_id), broker_id=db_id(ref.broker_id) or 0,
        broker_name=names.broker(ref.broker_id), agency_id=db_id(ref.agency_id),
        agency_name=names.agency(ref.agency_id), phone_masked=ref.phone, state=ref.state,
        state_text=STATE_TEXT[ref.state], reason=reason_out(ref.reason),
        submitted_at=ref.submitted_at, protection_until=ref.protection_until)


def fact_out(event: engine.Event, names: Names) -> FactOut:
    broker = getattr(event, "broker_id", None)
    agency = getattr(event, "agency_id", None)
    fact = FactOut(broker_id=db_id(broker), broker_name=names.broker(broker),
                   agency_id=db_id(agency), agency_name=names.agency(agency))
    if isinstance(event, engine.Referral):
        fact.phone_masked = display(event.phone)
        fact.customer_name = mask_name(event.name)
    elif isinstance(event, engine.Visit | engine.QrCheckIn):
        fact.actor_name = names.user(event.consultant_id)
        fact.guided = event.broker_id is not None
    elif isinstance(event, engine.FollowUp):
        fact.actor_name = names.user(event.actor_id)
        fact.effective = event.effective
    elif isinstance(event, engine.DealMilestone):
        fact.stage = event.stage
    elif isinstance(event, engine.ReferralReview):
        fact.approved = event.approved
    elif isinstance(event, engine.ConsultantAssignment):
        fact.actor_name = names.user(event.consultant_id)
    elif isinstance(event, engine.Override):
        fact.override_state = event.state
        row = names.overrides.get(event.id)
        if row is not None:
            fact.override_source = row.source  # type: ignore[assignment]
            fact.override_source_id = row.source_id
            fact.comment = row.comment
            fact.actor_name = names.user(str(row.decided_by))
    return fact


def rule_changes(before: engine.RuleSet | None, after: engine.RuleSet) -> list[RuleChangeOut]:
    """The parameters `after` sets differently from `before` (all of them for the first)."""
    new = after.model_dump(mode="json", exclude=_SERVER_FIELDS)
    old = before.model_dump(mode="json", exclude=_SERVER_FIELDS) if before else {}
    return [RuleChangeOut(field=k, before=old.get(k), after=v)
            for k, v in new.items() if before is None or old.get(k) != v]


def steps_out(decision: engine.Decision, events: Sequence[engine.Event],
              history: engine.RulesHistory, names: Names) -> list[StepOut]:
    by_id = {e.id: e for e in events}
    versions = {r.version: r for r in history.versions}
    steps: list[StepOut] = []
    for step in decision.trace:
        if step.kind == "rule_change":
            number = int(step.step_id.removeprefix("rules:v"))
            earlier = [r for r in history.versions if r.version < number]
            fact = FactOut(rule_version=number, rule_changes=rule_changes(
                earlier[-1] if earlier else None, versions[number]))
        elif step.step_id in by_id:
            fact = fact_out(by_id[step.step_id], names)
        else:
            fact = FactOut()  # a derived expiry or lapse: its change says which referral
        steps.append(StepOut(at=step.at, step_id=step.step_id, kind=step.kind,
                             title=KIND_TEXT.get(step.kind, step.kind), fact=fact,
                             changes=[change_out(c) for c in step.changes],
                             owner=owner_out(step.owner, names)))
    return steps
