"""What each computable risk check finds for one referral, from the data of today: the
sales customer with the referral's full number, their visits and follow-ups, the other
referrals of that number, and the audit log's look-ups and unmaskings.

A finding carries a Chinese summary and its evidence: a time-ordered timeline of the
facts that made it fire, which the reviewer sees. Masked referrals are judged only by
what a masked number can be matched with (nothing here: they name no customer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from cloud.audit.models import AuditLog
from cloud.catalog.models import Project
from cloud.channel import history, rules
from cloud.channel.models import Referral
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.sales.service import NAME_CONTEXT as CUSTOMER_NAME_CONTEXT
from cloud.settings import CloudSettings
from shared.timeutil import as_utc, iso

LOOKUP_ACTIONS = ("customer.lookup", "customer.unmask", "customer.search")
_LOOKUP_TEXT = {"customer.lookup": "前台平板查询号码", "customer.unmask": "查看完整号码",
                "customer.search": "按号码搜索客户"}


@dataclass(frozen=True)
class Finding:
    summary: str
    timeline: list[dict[str, Any]]
    facts: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return {"timeline": sorted(self.timeline, key=lambda item: item["at"]), **self.facts}


@dataclass(frozen=True)
class Known:
    """What judging a full-number referral read already: its customer, and the stored
    referrals of the number (the one under check not among them)."""

    customer: Customer | None
    referrals: list[Referral]


@dataclass(frozen=True)
class Subject:
    """The referral under check and what the database knows of its customer."""

    session: Session
    settings: CloudSettings
    referral: Referral
    customer: Customer | None
    as_of: datetime
    known: Known | None = None

    def referral_item(self) -> dict[str, Any]:
        return item(self.referral.created_at, "referral",
                     f"报备（经纪人 {self.referral.broker_id}）", referral_id=self.referral.id)


def subject(session: Session, settings: CloudSettings, referral: Referral,
            as_of: datetime, known: Known | None = None) -> Subject:
    if known is not None:
        return Subject(session, settings, referral, known.customer, as_of, known)
    customer = None
    if referral.phone_bidx is not None:
        customer = session.exec(select(Customer).where(
            Customer.project_id == referral.project_id,
            Customer.phone_bidx == referral.phone_bidx)).first()
    return Subject(session, settings, referral, customer, as_of)


def item(at: datetime, kind: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"at": iso(as_utc(at)), "kind": kind, "text": text, **extra}


def late_referral(s: Subject, params: dict[str, int]) -> Finding | None:
    """lead_time < (first visit − referral) ≤ lead_time + risk window."""
    if s.customer is None:
        return None
    ref_at = as_utc(s.referral.created_at)
    first = s.session.exec(select(Visit).where(
        Visit.customer_id == s.customer.id, col(Visit.occurred_at) >= ref_at)
        .order_by(col(Visit.occurred_at))).first()
    if first is None:
        return None
    in_force = rules.history(s.session, s.referral.project_id).at(ref_at)
    lead = in_force.lead_time if in_force else rules.defaults(s.referral.project_id).lead_time
    window = timedelta(minutes=params["risk_window_minutes"])
    gap = as_utc(first.occurred_at) - ref_at
    if not lead < gap <= lead + window:
        return None
    minutes = int(gap.total_seconds() // 60)
    return Finding(
        f"报备后 {minutes} 分钟客户即到访（防截客 {int(lead.total_seconds() // 60)} 分钟，"
        f"风险窗口 {params['risk_window_minutes']} 分钟）",
        [s.referral_item(), item(first.occurred_at, "visit", "首次到访", visit_id=first.id)],
        {"gap_minutes": minutes})


def searched_before_referral(s: Subject, params: dict[str, int]) -> Finding | None:
    """Someone looked the number up (kiosk look-up, console or appliance unmasking) at or
    before the referral, within the look-back."""
    ref_at = as_utc(s.referral.created_at)
    since = ref_at - timedelta(days=params["lookback_days"])
    customer_id = str(s.customer.id) if s.customer else None
    by_number = (("phone_bidx", s.referral.phone_bidx) if s.referral.phone_bidx is not None
                 else ("phone_masked", s.referral.phone_masked))
    rows = s.session.exec(_lookups_query(customer_id is not None, by_number[0]), params={
        "customer": customer_id, "number": by_number[1], "since": since,
        # Appliance events reach the log after they happened; their own time is checked
        # below, so a row logged up to a day later still counts.
        "until": ref_at + timedelta(days=1)}).all()
    site = s.session.exec(select(Project.site_id).where(
        Project.id == s.referral.project_id)).first() if any(
        r.action == "customer.search" for r in rows) else None
    hits = []
    for row in rows:
        if not (row.object_id == customer_id or _same_unknown_number(s.referral, site, row)):
            continue
        at = _happened(row)
        if since <= at <= ref_at:
            hits.append((at, row))
    if not hits:
        return None
    return Finding(
        f"报备前已有 {len(hits)} 次查询或查看该号码",
        [s.referral_item()] + [
            item(at, "lookup", f"{_LOOKUP_TEXT[row.action]}（{row.actor}）", audit_id=row.id)
            for at, row in hits],
        {"searches": len(hits)})


@cache
def _lookups_query(by_customer: bool, key: str) -> SelectOfScalar[AuditLog]:
    """The look-ups of a customer (through the object index) or of a number the office
    did not know (no customer id; by the number's blind index, or a masked referral's
    mask, through the expression index of migration 0026). Built once per shape."""
    unknown = and_(col(AuditLog.object_type) == "customer", col(AuditLog.object_id) == "",
                   AuditLog.detail[key].as_string() == bindparam("number"))
    match = unknown if not by_customer else or_(
        and_(col(AuditLog.object_type) == "customer",
             col(AuditLog.object_id) == bindparam("customer")),
        unknown)
    return select(AuditLog).where(
        match, col(AuditLog.action).in_(LOOKUP_ACTIONS),
        col(AuditLog.at) >= bindparam("since"), col(AuditLog.at) <= bindparam("until"),
    ).order_by(col(AuditLog.id))


def _same_unknown_number(referral: Referral, site: str | None, row: AuditLog) -> bool:
    """A look-up of a number the office did not know, of this referral's number: by the
    blind index for a full number; a masked referral can only be compared by its mask.
    A kiosk look-up names its project; a staff search the sites it spanned."""
    if row.object_id != "":
        return False
    if row.action == "customer.search":
        sites = row.detail.get("site_ids")
        if sites is not None and site not in sites:
            return False
    elif row.detail.get("project_id") != referral.project_id:
        return False
    if referral.phone_bidx is not None:
        return bool(row.detail.get("phone_bidx") == referral.phone_bidx)
    return bool(row.detail.get("phone_masked") == referral.phone_masked)


def _happened(row: AuditLog) -> datetime:
    for key in ("looked_up_at", "revealed_at", "searched_at"):
        value = row.detail.get(key)
        if isinstance(value, str):
            return as_utc(datetime.fromisoformat(value))
    return as_utc(row.at)


def name_edits(s: Subject, params: dict[str, int]) -> Finding | None:
    """The customer's name as recorded for this number (the office's customer card, each
    referral) changed more than max_edits times, in time order."""
    if s.referral.phone_bidx is None:
        return None
    named: list[tuple[datetime, str, dict[str, Any]]] = []
    if s.customer is not None and s.customer.name_enc is not None:
        named.append((s.customer.created_at, s.settings.cipher.decrypt(
            s.customer.name_enc, context=CUSTOMER_NAME_CONTEXT), {"customer_id": s.customer.id}))
    for row in _same_number(s):
        named.append((row.created_at, s.settings.cipher.decrypt(
            row.name_enc, context=history.REFERRAL_NAME_CONTEXT), {"referral_id": row.id}))
    named.sort(key=lambda n: (as_utc(n[0]), n[2].get("referral_id", 0)))
    edits = [(at, name, ref) for (at, name, ref), (_, before, _) in zip(
        named[1:], named, strict=False) if name != before]
    if len(edits) <= params["max_edits"]:
        return None
    return Finding(
        f"客户姓名被修改 {len(edits)} 次（上限 {params['max_edits']} 次）",
        [item(at, "name_edit", "姓名被改为另一写法", **ref) for at, _, ref in edits],
        {"edits": len(edits)})


def _same_number(s: Subject) -> list[Referral]:
    """The referrals of the number at the project up to the one under check."""
    if s.known is None:
        return list(s.session.exec(select(Referral).where(
            Referral.project_id == s.referral.project_id,
            Referral.phone_bidx == s.referral.phone_bidx,
            col(Referral.created_at) <= s.referral.created_at)).all())
    return [r for r in [*s.known.referrals, s.referral]
            if r.phone_bidx == s.referral.phone_bidx
            and r.created_at <= s.referral.created_at]


def consultant_patterns(s: Subject, params: dict[str, int]) -> Finding | None:
    """More than max_consultants different consultants touched the customer (visits,
    follow-ups, unmaskings) within any window_hours, from a window before the referral."""
    if s.customer is None:
        return None
    window = timedelta(hours=params["window_hours"])
    since = as_utc(s.referral.created_at) - window
    touches: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for v in s.session.exec(select(Visit).where(
            Visit.customer_id == s.customer.id, col(Visit.occurred_at) >= since)).all():
        if v.consultant_id is not None:
            touches.append((as_utc(v.occurred_at), v.consultant_id, "接待到访",
                            {"visit_id": v.id}))
    for f in s.session.exec(select(FollowUp).where(
            FollowUp.customer_id == s.customer.id, col(FollowUp.occurred_at) >= since)).all():
        touches.append((as_utc(f.occurred_at), f.consultant_id, "跟进",
                        {"follow_up_id": f.id}))
    for row in s.session.exec(select(AuditLog).where(
            AuditLog.action == "customer.unmask", AuditLog.object_type == "customer",
            AuditLog.object_id == str(s.customer.id), col(AuditLog.at) >= since)).all():
        if row.actor_id is not None:
            touches.append((_happened(row), row.actor_id, "查看完整号码", {"audit_id": row.id}))
    touches.sort(key=lambda t: t[0])
    limit = params["max_consultants"]
    for i, (start, _, _, _) in enumerate(touches):
        inside = [t for t in touches[i:] if t[0] - start <= window]
        if len({t[1] for t in inside}) > limit:
            people = sorted({t[1] for t in inside})
            return Finding(
                f"{params['window_hours']} 小时内有 {len(people)} 名顾问接触该客户"
                f"（上限 {limit} 名）",
                [item(at, "touch", f"{what}（顾问 {who}）", consultant_id=who, **ref)
                 for at, who, what, ref in inside],
                {"consultants": people})
    return None


Computation = Callable[[Subject, dict[str, int]], Finding | None]

COMPUTED: dict[str, Computation] = {
    "late_referral": late_referral,
    "searched_before_referral": searched_before_referral,
    "name_edits": name_edits,
    "consultant_patterns": consultant_patterns,
}
