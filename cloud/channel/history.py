"""One customer's history at one project, gathered from the database for the engine.

A number is found by the blind indexes of what a mask may show: the 3+4 key (full, 3+4
and 3+6 numbers) and the first seven digits (full, first9, first7). A mask of one family
meets a mask of the other only in its first three digits, which is too little to call
two referrals one customer, so those are not gathered together. Customers of the sales
domain are found by their full number's index and their 3+4 key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import and_, bindparam, or_, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from cloud.channel.appeal_models import ReferralOverride
from cloud.channel.models import Referral, ReferralReview
from cloud.deals.models import Deal
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.sales.service import PHONE_CONTEXT as CUSTOMER_PHONE_CONTEXT
from cloud.settings import CloudSettings
from shared import attribution as engine
from shared.attribution.masks import compatible, display, is_masked, parse_phone, visible
from shared.attribution.rules import DealStage

REFERRAL_PHONE_CONTEXT = "channel_referral.phone"
REFERRAL_NAME_CONTEXT = "channel_referral.name"
_KEY34 = frozenset({0, 1, 2, 7, 8, 9, 10})
_KEY7 = frozenset(range(7))
# Referrals without an agency (individual referrers) still need an agency id for the engine.
INDIVIDUAL = "individual"
# A deal document's kind as the engine's milestone.
_MILESTONES: dict[str, DealStage] = {
    "pledge": "pledge", "subscription": "subscription", "contract": "contract"}
# The engine's id of a referral being judged before it is stored.
NEW_REFERRAL = "referral:new"


@dataclass(frozen=True)
class Number:
    """A referral's number: `given` is 11 characters, digits and `*`; `full` when whole."""

    given: str
    full: str | None
    bidx: str | None
    key34: str | None
    key7: str | None

    @property
    def shown(self) -> str:
        return display(self.given)


def number_of(settings: CloudSettings, raw: str) -> Number:
    """Raises shared.phone.InvalidPhone (422) for anything but a number or a mask."""
    given = parse_phone(raw)
    shows = visible(given)
    index = settings.blind_index
    return Number(
        given=given, full=None if is_masked(given) else given,
        bidx=None if is_masked(given) else index.phone(given),
        key34=index.phone_masked(given[:3] + "****" + given[7:]) if shows >= _KEY34 else None,
        key7=index.of("phone7", given[:7]) if shows >= _KEY7 else None,
    )


LockKey = tuple[str, bool]  # (key, shared)


def lock(session: Session, *keys: str | LockKey) -> None:
    """Serialise submissions on these keys until the transaction ends (PostgreSQL); the
    demo's SQLite has one writer at a time already. A plain key is taken exclusively.
    Callers pass keys in one fixed order, so two submissions never wait on each other
    crosswise. One round trip: PostgreSQL evaluates a select list left to right."""
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return
    calls, params = [], {}
    for i, key in enumerate(keys):
        name, shared = (key, False) if isinstance(key, str) else key
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        calls.append(f"{function}(hashtextextended(:k{i}, 0))")
        params[f"k{i}"] = name
    session.execute(text("SELECT " + ", ".join(calls)), params)


def lock_keys(project_id: int, number: Number) -> list[LockKey]:
    """A full number is one person: it is taken exclusively, and the masks it may
    complete shared, so two different numbers with one prefix never wait on each other;
    a masked number takes its masks exclusively, waiting for every number it may be."""
    masked = number.full is None
    keys: list[LockKey] = []
    if number.key34:
        keys.append((f"channel:{project_id}:34:{number.key34}", not masked))
    if number.key7:
        keys.append((f"channel:{project_id}:7:{number.key7}", not masked))
    if number.bidx:
        keys.append((f"channel:{project_id}:full:{number.bidx}", False))
    return keys


@dataclass
class _Person:
    """The stored facts of one full number: its referrals and its customer row, if any."""

    referrals: list[tuple[Referral, str]]
    customer: Customer | None = None


def phone_of(settings: CloudSettings, row: Referral) -> str:
    if row.phone_enc is not None:
        return settings.cipher.decrypt(row.phone_enc, context=REFERRAL_PHONE_CONTEXT)
    assert row.phone_given is not None
    return row.phone_given


@dataclass(frozen=True)
class Gathered:
    """One person's history: their full number and sales customer when known."""

    full: str | None
    customer: Customer | None
    events: list[engine.Event]
    referrals: list[Referral]  # the stored referrals among `events`


def gather(session: Session, *, settings: CloudSettings, project_id: int,
           number: Number, exclude: int | None = None) -> list[Gathered]:
    """The histories `number` may belong to, without the referral `exclude`: one per full
    number it may be (a masked number may match several people), else one of the masked
    referrals alone."""
    masked: list[tuple[Referral, str]] = []
    people: dict[str, _Person] = {}
    for row in _candidate_referrals(session, project_id, number):
        if row.id == exclude:
            continue
        phone = phone_of(settings, row)
        if not compatible(phone, number.given):
            continue
        if is_masked(phone):
            masked.append((row, phone))
        else:
            people.setdefault(phone, _Person([])).referrals.append((row, phone))
    for customer in _candidate_customers(session, project_id, number):
        phone = settings.cipher.decrypt(customer.phone_enc, context=CUSTOMER_PHONE_CONTEXT)
        if compatible(phone, number.given):
            people.setdefault(phone, _Person([])).customer = customer
    if number.full is not None:
        people.setdefault(number.full, _Person([]))
        people = {number.full: people[number.full]}
    if not people:
        return [Gathered(None, None, _with_reviews(
            session, [row for row, _ in masked],
            [_referral_event(settings, row, phone) for row, phone in masked]),
            [row for row, _ in masked])]
    found = []
    for full, person in people.items():
        rows = person.referrals + [(row, phone) for row, phone in masked
                                   if compatible(phone, full)]
        found.append(Gathered(full, person.customer, _with_reviews(
            session, [row for row, _ in rows],
            [_referral_event(settings, row, phone) for row, phone in rows]
            + (_customer_events(session, person.customer, full) if person.customer else [])),
            [row for row, _ in rows]))
    return found


def reviews_of(session: Session, referral_ids: Iterable[int]) -> list[engine.Event]:
    """What people decided on these referrals, as the engine's events: the developer's
    reviews and the overrides (人工改判) of appeals and risk cases."""
    ids = list(referral_ids)
    if not ids:
        return []
    events: list[engine.Event] = [
        engine.ReferralReview(id=f"review:{r.id}", at=r.created_at,
                              referral_id=f"referral:{r.referral_id}", approved=r.approved)
        for r in session.exec(select(ReferralReview).where(
            col(ReferralReview.referral_id).in_(ids))).all()]
    return events + [override_event(o) for o in session.exec(select(ReferralOverride).where(
        col(ReferralOverride.referral_id).in_(ids))).all()]


def override_event(row: ReferralOverride) -> engine.Override:
    return engine.Override(id=f"override:{row.id}", at=row.created_at,
                           referral_id=f"referral:{row.referral_id}",
                           state=row.state, code=row.reason_code)


def _with_reviews(session: Session, rows: list[Referral], events: list[engine.Event]
                  ) -> list[engine.Event]:
    return events + reviews_of(session, [r.id for r in rows if r.id is not None])


def _candidate_referrals(session: Session, project_id: int, number: Number
                         ) -> Iterable[Referral]:
    if not (number.key34 or number.key7):
        return []
    query = _referrals_query(number.full is not None, number.key34 is not None,
                             number.key7 is not None)
    return session.exec(query, params={"project": project_id, "bidx": number.bidx,
                                       "key34": number.key34, "key7": number.key7}).all()


@cache
def _referrals_query(full: bool, key34: bool, key7: bool) -> SelectOfScalar[Referral]:
    """Built once per shape: building a statement costs about what sending it does."""
    masks: list[ColumnElement[bool]] = []
    if key34:
        masks.append(col(Referral.phone34_bidx) == bindparam("key34"))
    if key7:
        masks.append(col(Referral.phone7_bidx) == bindparam("key7"))
    # A full number meets its own referrals and the masked ones it may complete; other
    # full numbers sharing its prefix are other people (thousands, in a busy 号段).
    match = or_(*masks) if not full else or_(
        col(Referral.phone_bidx) == bindparam("bidx"),
        and_(col(Referral.phone_bidx).is_(None), or_(*masks)))
    return (select(Referral).where(col(Referral.project_id) == bindparam("project"), match)
            .order_by(col(Referral.id)))


def _candidate_customers(session: Session, project_id: int, number: Number
                         ) -> Iterable[Customer]:
    if number.bidx is not None:
        query, key = _CUSTOMER_BY_NUMBER, number.bidx
    elif number.key34 is not None:
        query, key = _CUSTOMER_BY_34, number.key34
    else:
        return []
    return session.exec(query, params={"project": project_id, "key": key}).all()


_CUSTOMER_BY_NUMBER = select(Customer).where(
    col(Customer.project_id) == bindparam("project"), col(Customer.phone_bidx) == bindparam("key"))
_CUSTOMER_BY_34 = select(Customer).where(
    col(Customer.project_id) == bindparam("project"),
    col(Customer.phone34_bidx) == bindparam("key"))


def referral_event(settings: CloudSettings, row: Referral) -> engine.Referral:
    return _referral_event(settings, row, phone_of(settings, row))


def submitted_event(row: Referral, number: Number, name: str) -> engine.Referral:
    """The event of a referral being submitted, from what the broker sent (its stored
    form is encrypted: reading it back would only undo that)."""
    return _event(row, number.given, name)


def _referral_event(settings: CloudSettings, row: Referral, phone: str) -> engine.Referral:
    return _event(row, phone,
                  settings.cipher.decrypt(row.name_enc, context=REFERRAL_NAME_CONTEXT))


def _event(row: Referral, phone: str, name: str) -> engine.Referral:
    return engine.Referral(
        id=NEW_REFERRAL if row.id is None else f"referral:{row.id}", at=row.created_at,
        project_id=str(row.project_id), broker_id=str(row.broker_id),
        agency_id=str(row.agency_id) if row.agency_id is not None else INDIVIDUAL,
        phone=phone, name=name,
        broker_live_referrals=row.broker_live_referrals, team=row.team,
    )


def _visit_event(v: Visit, phone: str) -> engine.Event:
    consultant = str(v.consultant_id) if v.consultant_id else None
    if v.broker_id is None:
        return engine.Visit(id=f"visit:{v.id}", at=v.occurred_at, consultant_id=consultant)
    if v.guide_method == "manual":
        # A broker picked by the receptionist (ADR 0030): a guided visit (渠道带访) that
        # confirms the broker's referral like a scan, but completes no masked number —
        # the rules page completes masks at the QR guided visit only.
        return engine.Visit(id=f"visit:{v.id}", at=v.occurred_at, consultant_id=consultant,
                            broker_id=str(v.broker_id))
    # A guided visit (扫码带看): the scan confirmed it on site, with the full number that
    # completes a masked referral.
    return engine.QrCheckIn(id=f"visit:{v.id}", at=v.occurred_at, broker_id=str(v.broker_id),
                            consultant_id=consultant, phone=phone)


def _customer_events(session: Session, customer: Customer, phone: str) -> list[engine.Event]:
    """What the sales domain knows: visits received by a consultant (natural, or guided
    by a broker's QR code), follow-ups, and the deal milestones: each approved document
    (认筹 / 认购 / 签约) at its approval, whatever became of it later."""
    events: list[engine.Event] = [
        _visit_event(v, phone)
        for v in session.exec(select(Visit).where(Visit.customer_id == customer.id)).all()
    ]
    events += [
        engine.FollowUp(id=f"follow_up:{f.id}", at=f.occurred_at, actor_id=str(f.consultant_id),
                        effective=f.effective)
        for f in session.exec(select(FollowUp).where(FollowUp.customer_id == customer.id)).all()
    ]
    events += [
        engine.DealMilestone(id=f"deal:{d.id}", at=d.approved_at,
                             stage=_MILESTONES[d.kind])
        for d in session.exec(select(Deal).where(
            Deal.customer_id == customer.id, col(Deal.approved_at).is_not(None))).all()
        if d.approved_at is not None
    ]
    return events
