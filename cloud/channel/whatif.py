"""规则模拟 (what-if): a proposed rule set replayed over the last N days, before anyone
publishes it.

Every customer of the project with a referral or a visit in the window is judged twice:
under the project's rule history, and under the same history with the proposed version
in force from the start of the window (as if it had been published then: live windows
move to its lengths, what had expired before stays expired) — or, for a version to be
scheduled, from its own effective_from: the versions from then on replaced, and both
sides judged as of that instant when it is later than now (what will change the moment
it takes effect, with the facts known now). The customers whose owner, referral states
or live windows differ are listed. Nothing is stored. The work is bounded: at most
`limit` customers, the most recently active first, and the answer says when more were
left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import history, rules
from cloud.channel.errors import RulesInvalid
from cloud.channel.judging import Names, owner_out, reason_out, referral_id
from cloud.channel.judging_schemas import CustomerDiff, ReferralDiff, WhatIfOut
from cloud.channel.models import Referral
from cloud.identity.deps import Principal
from cloud.sales.models import Customer, Visit
from cloud.sales.service import PHONE_CONTEXT as CUSTOMER_PHONE_CONTEXT
from cloud.settings import CloudSettings
from shared import attribution as engine
from shared.attribution.masks import display
from shared.timeutil import as_utc, iso

# Two engine runs per customer and a few queries each: a few seconds at this many.
MAX_CUSTOMERS = 500


@dataclass(frozen=True)
class _Seed:
    """A customer to replay, found by a referral or a visit in the window."""

    key: str  # the number's blind index; a masked referral is its own seed
    last: datetime
    referral: int | None = None
    customer: int | None = None


@dataclass(frozen=True)
class _Judged:
    person: history.Gathered
    before: engine.Decision
    after: engine.Decision
    owner_changed: bool
    referrals: list[tuple[engine.ReferralOutcome, engine.ReferralOutcome]]


def what_if(session: Session, *, principal: Principal, settings: CloudSettings,
            project_id: int, parameters: dict[str, Any], days: int, as_of: datetime,
            effective_from: datetime | None = None,
            limit: int = MAX_CUSTOMERS) -> WhatIfOut:
    """The caller has checked that the principal sees the project. `effective_from`:
    when the proposed version would take effect (None: from the start of the window)."""
    current = rules.history(session, project_id)
    latest = current.versions[-1]
    # Validated as its publication would be: the next version, from now (or after a
    # version already scheduled).
    proposed = rules.proposal(parameters, after=current.versions,
                              effective_from=max(as_of, latest.effective_from
                                                 + timedelta(seconds=1)))
    start = as_of - timedelta(days=days)
    replayed_from = start if effective_from is None else as_utc(effective_from)
    if replayed_from < start:
        raise RulesInvalid("拟议规则的生效时间不能早于回放的起点")
    judged_at = max(as_of, replayed_from)
    replay = engine.RulesHistory(versions=(
        *(v for v in current.versions if v.effective_from < replayed_from),
        proposed.model_copy(update={"effective_from": replayed_from})))
    seeds = _seeds(session, project_id, start)
    judged: list[_Judged] = []
    seen: set[object] = set()
    for seed in seeds[:limit]:
        for person in history.gather(session, settings=settings, project_id=project_id,
                                     number=history.number_of(settings,
                                                              _phone(session, settings, seed))):
            key = person.full or frozenset(e.id for e in person.events)
            if key in seen or not person.events:
                continue
            seen.add(key)
            found = _judge(person, current, replay, judged_at)
            if found is not None:
                judged.append(found)
    names = Names(session, [e for j in judged for e in j.person.events],
                  [d for j in judged for d in (j.before, j.after)])
    customers = [_diff_out(j, names) for j in judged]
    answer = WhatIfOut(
        project_id=project_id, as_of=judged_at, replayed_from=replayed_from, days=days,
        proposed_version=proposed.version, checked=len(seen), limit=limit,
        truncated=len(seeds) > limit, changed=len(customers),
        owner_changed=sum(c.owner_changed for c in customers),
        referrals_changed=sum(1 for c in customers for r in c.referrals
                              if (r.before_state, r.before.code) != (r.after_state, r.after.code)),
        windows_changed=sum(1 for c in customers for r in c.referrals if r.window_changed),
        customers=customers)
    audit_service.record(
        session, action="channel.rules_what_if", principal=principal,
        object_type="project", object_id=str(project_id),
        detail={"days": days, "version": proposed.version, "checked": answer.checked,
                "effective_from": iso(replayed_from) if effective_from else None,
                "changed": answer.changed, "truncated": answer.truncated})
    return answer


def _seeds(session: Session, project_id: int, start: datetime) -> list[_Seed]:
    """One seed per number active in the window, the most recent first."""
    found: list[_Seed] = [
        _Seed(key=bidx or f"masked:{rid}", last=at, referral=rid)
        for rid, bidx, at in session.exec(
            select(Referral.id, Referral.phone_bidx, Referral.created_at)
            .where(Referral.project_id == project_id, col(Referral.created_at) >= start)).all()
    ]
    last_visit = func.max(Visit.occurred_at)
    found += [
        _Seed(key=bidx, last=at, customer=cid)
        for cid, bidx, at in session.exec(
            select(Customer.id, Customer.phone_bidx, last_visit)
            .join(Visit, col(Visit.customer_id) == Customer.id)
            .where(Visit.project_id == project_id, col(Visit.occurred_at) >= start)
            .group_by(col(Customer.id), col(Customer.phone_bidx))).all()
    ]
    found.sort(key=lambda s: (s.last, s.key), reverse=True)
    unique: dict[str, _Seed] = {}
    for seed in found:
        unique.setdefault(seed.key, seed)
    return list(unique.values())


def _phone(session: Session, settings: CloudSettings, seed: _Seed) -> str:
    if seed.referral is not None:
        row = session.get(Referral, seed.referral)
        assert row is not None
        return history.phone_of(settings, row)
    customer = session.get(Customer, seed.customer)
    assert customer is not None
    return settings.cipher.decrypt(customer.phone_enc, context=CUSTOMER_PHONE_CONTEXT)


def _judge(person: history.Gathered, current: engine.RulesHistory,
           replay: engine.RulesHistory, as_of: datetime) -> _Judged | None:
    before = engine.decide(rules.from_start(current, person.events), person.events, as_of)
    after = engine.decide(rules.from_start(replay, person.events), person.events, as_of)
    owner_changed = ((before.owner.kind, before.owner.broker_id)
                     != (after.owner.kind, after.owner.broker_id))
    later = {r.referral_id: r for r in after.referrals}
    changed = [(r, later[r.referral_id]) for r in before.referrals
               if (r.state, r.reason.code, r.protection_until)
               != (later[r.referral_id].state, later[r.referral_id].reason.code,
                   later[r.referral_id].protection_until)]
    if not owner_changed and not changed:
        return None
    return _Judged(person, before, after, owner_changed, changed)


def _diff_out(judged: _Judged, names: Names) -> CustomerDiff:
    person = judged.person
    referral_events = [e for e in person.events if isinstance(e, engine.Referral)]
    shown = person.full or referral_events[0].phone
    return CustomerDiff(
        phone_masked=display(shown), customer_id=person.customer.id if person.customer else None,
        referral_id=referral_id(referral_events[-1].id) if referral_events else None,
        owner_changed=judged.owner_changed,
        owner_before=owner_out(judged.before.owner, names),
        owner_after=owner_out(judged.after.owner, names),
        referrals=[ReferralDiff(
            referral_id=referral_id(b.referral_id), broker_id=int(b.broker_id),
            broker_name=names.broker(b.broker_id), before_state=b.state,
            before=reason_out(b.reason), after_state=a.state, after=reason_out(a.reason),
            before_protection_until=b.protection_until,
            after_protection_until=a.protection_until,
            # Only the window moved: same state and reason, another end.
            window_changed=(b.state, b.reason.code) == (a.state, a.reason.code)
            and b.protection_until != a.protection_until)
            for b, a in judged.referrals])
