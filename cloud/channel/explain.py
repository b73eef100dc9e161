"""判客依据: why a customer is owned — the engine run over the history history.py
gathers, with every step of the timeline, its reason codes, texts and evidence.

A lookup names a customer by their full number (through the blind index), by one of
their referrals or by their sales customer id. It reveals who owns a customer, so each
lookup is audited. A masked referral may be one of several people: each gets a timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel import history, referrals, rules
from cloud.channel.errors import CustomerNotFound, LookupInvalid, ReferralNotFound
from cloud.channel.judging import Names, owner_out, referral_state_out, steps_out
from cloud.channel.judging_schemas import AttributionOut, RuleVersionBrief, TimelineOut
from cloud.identity.deps import Principal
from cloud.sales.models import Customer
from cloud.sales.service import PHONE_CONTEXT as CUSTOMER_PHONE_CONTEXT
from cloud.settings import CloudSettings
from shared import attribution as engine
from shared.attribution.masks import display


@dataclass(frozen=True)
class Lookup:
    """Exactly one of the three names the customer."""

    phone: str | None = None
    referral_id: int | None = None
    customer_id: int | None = None

    @property
    def by(self) -> str:
        given = [name for name, value in (("phone", self.phone), ("referral", self.referral_id),
                                          ("customer", self.customer_id)) if value is not None]
        if len(given) != 1:
            raise LookupInvalid()
        return given[0]


def explain(session: Session, *, principal: Principal, settings: CloudSettings,
            project_id: int, lookup: Lookup, as_of: datetime,
            action: str = "channel.attribution_view") -> AttributionOut:
    """The caller has checked that the principal sees the project. Audited as `action`:
    a view, or an export (channel.attribution_export)."""
    by = lookup.by
    number = _number(session, principal, settings, project_id, lookup)
    rules_history = rules.history(session, project_id)
    judged: list[tuple[history.Gathered, engine.RulesHistory, engine.Decision]] = []
    for person in history.gather(session, settings=settings, project_id=project_id,
                                 number=number):
        if not person.events:
            continue  # a number the project has never seen
        used = rules.from_start(rules_history, person.events)
        judged.append((person, used, engine.decide(used, person.events, as_of)))
    names = Names(session, [e for p, _, _ in judged for e in p.events], [d for _, _, d in judged])
    timelines = [
        TimelineOut(
            phone_masked=_shown(person),
            customer_id=person.customer.id if person.customer else None,
            rule_version=decision.rule_version, owner=owner_out(decision.owner, names),
            referrals=[referral_state_out(r, names) for r in decision.referrals],
            visit_count=decision.visit_count,
            steps=steps_out(decision, person.events, used, names))
        for person, used, decision in judged
    ]
    audit_service.record(
        session, action=action, principal=principal,
        object_type="project", object_id=str(project_id),
        detail={"by": by, "phone": number.shown, "customers": len(timelines),
                **({"referral_id": lookup.referral_id} if lookup.referral_id else {}),
                **({"customer_id": lookup.customer_id} if lookup.customer_id else {})})
    return AttributionOut(
        project_id=project_id, as_of=as_of,
        rule_versions=[RuleVersionBrief(version=r.version, effective_from=r.effective_from)
                       for r in rules_history.versions],
        timelines=timelines)


def _number(session: Session, principal: Principal, settings: CloudSettings,
            project_id: int, lookup: Lookup) -> history.Number:
    if lookup.phone is not None:
        number = history.number_of(settings, lookup.phone)
        if number.full is None:
            # A mask would list everyone whose visible digits agree: a fishing tool.
            raise LookupInvalid("请输入完整的 11 位手机号")
        return number
    if lookup.referral_id is not None:
        row = referrals.get(session, principal=principal, referral_id=lookup.referral_id)
        if row.project_id != project_id:
            raise ReferralNotFound()
        return history.number_of(settings, history.phone_of(settings, row))
    customer = session.get(Customer, lookup.customer_id)
    if customer is None or customer.project_id != project_id:
        raise CustomerNotFound()
    return history.number_of(
        settings, settings.cipher.decrypt(customer.phone_enc, context=CUSTOMER_PHONE_CONTEXT))


def _shown(person: history.Gathered) -> str:
    if person.full is not None:
        return display(person.full)
    first = next(e for e in person.events if isinstance(e, engine.Referral))
    return display(first.phone)
