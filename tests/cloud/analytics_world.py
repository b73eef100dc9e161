"""A hand-built data set for 渠道业绩 / 多维查询, written straight into the tables so
every time, state and reason is exactly the one the expectations below count — on
PostgreSQL and on SQLite alike.

Beijing days (UTC+8) of the referrals, two projects (site A, site B):

| # | project | broker (agency / team) | UTC time | Beijing day | state / reason |
|---|---|---|---|---|---|
| 1 | A | a1 (A) | 11-01 15:59:59 | 11-01 (Sun) | confirmed / visit_confirmed |
| 2 | A | a1 (A) | 11-01 16:00:00 | 11-02 (Mon) | invalid / already_referred_by_other (as 1) |
| 3 | A | a2 (A), masked | 11-02 03:00 | 11-02 | confirmed / visit_confirmed (QR visit) |
| 4 | A | b1 (B, team 东区) | 11-03 02:00 | 11-03 | expired / visit_overdue |
| 5 | A | b1 (B, team 东区) | 11-03 05:00 | 11-03 | invalid / lead_time_not_met |
| 6 | A | referrer (全民营销), corporate | 10-31 16:30 | 11-01 | confirmed / visit_confirmed |
| 7 | A | referrer | 11-30 16:00 | 12-01 | pending / pending_confirmation |
| 8 | B | b1 (B, team 东区) | 11-02 04:00 | 11-02 | confirmed / referral_protected |
| 9 | A | a1 (A) | 10-31 15:59:59 | 10-31 (outside 11-01…12-01) | confirmed / referral_protected |

Visits: the number of 1 and 2 at A by consultant a2 on 11-02 (after both); the customer
of 6 by consultant a2 on 10-30 (before the referral: not theirs) and by consultant a on
11-01; the QR visit of 3 by consultant a.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from cloud.catalog.models import Project, Site
from cloud.channel.history import REFERRAL_NAME_CONTEXT, REFERRAL_PHONE_CONTEXT
from cloud.channel.models import Agency, Broker, Referral
from cloud.channel.partners import BROKER_PHONE_CONTEXT
from cloud.sales.models import Customer, Visit
from cloud.settings import CloudSettings
from shared.phone import mask_phone
from shared.timeutil import shanghai_date
from tests.cloud import make_user

FROM, TO = date(2026, 11, 1), date(2026, 12, 1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class World:
    projects: dict[str, int] = field(default_factory=dict)
    agencies: dict[str, int] = field(default_factory=dict)
    brokers: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    referrals: dict[int, int] = field(default_factory=dict)


def _id(row: Any) -> int:
    value = row.id
    assert isinstance(value, int)
    return value


def build(db: Session, settings: CloudSettings) -> World:
    w = World()
    for key in ("a", "b"):
        db.add(Site(id=f"site-{key}", name=f"案场{key.upper()}"))
        db.flush()
        project = Project(site_id=f"site-{key}", name=f"项目{key.upper()}")
        db.add(project)
        db.flush()
        w.projects[key] = _id(project)
    db.commit()
    for username, roles, sites, everything in (
        ("hqall", ["hq_manager"], [], True), ("cm_a", ["channel_manager"], ["site-a"], False),
        ("cm_b", ["channel_manager"], ["site-b"], False),
        ("consult_a", ["consultant"], ["site-a"], False),
        ("consult_a2", ["consultant"], ["site-a"], False),
    ):
        w.users[username] = _id(make_user(db, username, roles=roles, site_ids=sites,
                                          scope_all=everything, display_name=f"{username}名"))
    for key, team in (("A", None), ("B", "东区")):
        firm = Agency(name=f"渠道{key}", status="active", team=team,
                        invite_code=f"CODE{key}XYZ", created_by=w.users["hqall"])
        db.add(firm)
        db.flush()
        w.agencies[key] = _id(firm)
    for username, agency_key, roles in (
        ("agency_a", "A", ["agency_admin"]), ("ba1", "A", ["broker"]), ("ba2", "A", ["broker"]),
        ("bb1", "B", ["broker"]), ("referrer", None, ["broker"]),
    ):
        user_id = _id(make_user(db, username, roles=roles, display_name=f"{username}名"))
        broker = Broker(user_id=user_id,
                        agency_id=w.agencies[agency_key] if agency_key else None,
                        kind="agency" if agency_key else "referrer", status="active",
                        phone_enc=settings.cipher.encrypt("13700000000",
                                                          context=BROKER_PHONE_CONTEXT),
                        phone_bidx=settings.blind_index.phone("13700000000"),
                        phone_masked="137****0000")
        db.add(broker)
        db.flush()
        w.brokers[username] = _id(broker)
        w.users[username] = user_id
    db.commit()
    rows = (
        (1, "a", "ba1", "2026-11-01T15:59:59", "confirmed", "visit_confirmed", "13800000001",
         "individual"),
        (2, "a", "ba1", "2026-11-01T16:00:00", "invalid", "already_referred_by_other",
         "13800000001", "individual"),
        (3, "a", "ba2", "2026-11-02T03:00:00", "confirmed", "visit_confirmed", "138****0003",
         "individual"),
        (4, "a", "bb1", "2026-11-03T02:00:00", "expired", "visit_overdue", "13800000004",
         "individual"),
        (5, "a", "bb1", "2026-11-03T05:00:00", "invalid", "lead_time_not_met", "13800000005",
         "individual"),
        (6, "a", "referrer", "2026-10-31T16:30:00", "confirmed", "visit_confirmed",
         "13800000006", "corporate"),
        (7, "a", "referrer", "2026-11-30T16:00:00", "pending", "pending_confirmation",
         "13800000007", "individual"),
        (8, "b", "bb1", "2026-11-02T04:00:00", "confirmed", "referral_protected",
         "13800000008", "individual"),
        (9, "a", "ba1", "2026-10-31T15:59:59", "confirmed", "referral_protected",
         "13800000009", "individual"),
    )
    for number, site, who, when, state, reason, phone, group in rows:
        w.referrals[number] = _referral(db, settings, w, site, who, at(when), state,
                                        reason, phone, group)
    db.commit()
    p1 = _customer(db, settings, w.projects["a"], "13800000001", at("2026-11-02T02:00:00"))
    _visit(db, "site-a", w.projects["a"], p1, w.users["consult_a2"], at("2026-11-02T02:00:00"))
    p6 = _customer(db, settings, w.projects["a"], "13800000006", at("2026-10-30T02:00:00"))
    _visit(db, "site-a", w.projects["a"], p6, w.users["consult_a2"], at("2026-10-30T02:00:00"))
    _visit(db, "site-a", w.projects["a"], p6, w.users["consult_a"], at("2026-11-01T03:00:00"))
    p3 = _customer(db, settings, w.projects["a"], "13811110003", at("2026-11-02T05:00:00"))
    _visit(db, "site-a", w.projects["a"], p3, w.users["consult_a"], at("2026-11-02T05:00:00"),
           referral_id=w.referrals[3])
    db.commit()
    return w


def _referral(db: Session, settings: CloudSettings, w: World, project: str, broker: str,
              when: datetime, state: str, reason: str, phone: str, group: str) -> int:
    masked = "*" in phone
    agency = {"ba1": "A", "ba2": "A", "bb1": "B"}.get(broker)
    index = settings.blind_index
    row = Referral(
        project_id=w.projects[project], broker_id=w.brokers[broker],
        agency_id=w.agencies[agency] if agency else None, customer_group=group,
        name_enc=settings.cipher.encrypt("张伟", context=REFERRAL_NAME_CONTEXT),
        phone_enc=None if masked else settings.cipher.encrypt(
            phone, context=REFERRAL_PHONE_CONTEXT),
        phone_bidx=None if masked else index.phone(phone),
        phone_given=phone if masked else None,
        phone_masked=phone if masked else mask_phone(phone),
        phone34_bidx=index.phone_masked(phone[:3] + "****" + phone[7:]),
        state=state, reason_code=reason, rule_version=1,
        team="东区" if agency == "B" else None, idempotency_key=str(uuid.uuid4()),
        created_at=when, decided_at=when)
    db.add(row)
    db.flush()
    return _id(row)


def _customer(db: Session, settings: CloudSettings, project_id: int, phone: str,
              first: datetime) -> int:
    customer = Customer(
        project_id=project_id,
        phone_enc=settings.cipher.encrypt(phone, context="customer.phone"),
        phone_bidx=settings.blind_index.phone(phone),
        phone34_bidx=settings.blind_index.phone_masked(phone[:3] + "****" + phone[7:]),
        phone_masked=mask_phone(phone), first_visit_at=first, last_visit_at=first,
        protection_until=first)
    db.add(customer)
    db.flush()
    return _id(customer)


def _visit(db: Session, site_id: str, project_id: int, customer_id: int, consultant: int,
           when: datetime, referral_id: int | None = None) -> None:
    db.add(Visit(id=str(uuid.uuid4()), site_id=site_id, project_id=project_id,
                 customer_id=customer_id, consultant_id=consultant, party_size=1,
                 source="channel" if referral_id else "natural", is_first_visit=True,
                 visit_date=shanghai_date(when), occurred_at=when, edge_occurred_at=when,
                 event_seq=1, referral_id=referral_id))
    db.flush()
