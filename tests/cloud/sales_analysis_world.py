"""A hand-built office for 销售分析, written straight into the tables so every time and
state is exactly the one the worked examples count — on PostgreSQL and SQLite alike.
Window: Beijing days 2026-11-01 … 2026-11-30.

Project A (site A), consultants con1, con2 (site A) and con3 (site B, project B):

| customer | visits (UTC → Beijing day), consultant, source | profile of the first visit |
|---|---|---|
| K1 | 11-01 02:00 con1 natural (first); 11-05 con1 (return) | 三室, A, 自住, 100㎡, 250万, 电话 |
| K2 | 10-31 16:30 → 11-01 con2 channel (first) | 两室, B, 投资, 80㎡, 150万, 网络 |
| K3 | 10-31 15:59 → 10-31 con1 natural (first, outside); 11-10 con1 (return) | — |
| K4 | 11-20 02:00 con2 referral_old_customer (first) | — |
| K5 (B) | 11-03 02:00 con3 natural (first) | — |

Units of A: batch 首开 U1 三室 subscribed, U2 三室 signed, U3 两室 available, U4 两室
signed; batch 加推 U5 三室 available, U6 两室 delivered; U7 unreleased (no batch).

Deals (approved, UTC): D1 pledge K1 con1 11-02; D2 subscription K1 U1 con1 11-03 ¥1,000,000;
D3 subscription K2 U2 con2 11-04 ¥2,000,000 (converted) → D4 contract K2 U2 con2 11-06
¥2,000,000; D5 contract K3 U4 con1 11-07 ¥1,500,000, 退房 applied 11-15; D6 contract K4 U6
con2 11-25 ¥1,200,000, 换房 applied 11-26; D7 subscription K3 con1 10-30 (outside); D8
subscription K2 never approved; D9 (B) subscription K5 con3 11-05 ¥500,000.
Follow-ups: K2 effective (con2, 11-02); K4 not reached (con2, 11-21).
Calls (来电登记, UTC → Beijing day): A 11-01 01:00 con1 (K1's number); A 10-31 16:10 →
11-01 con2; A 10-31 15:50 → 10-31 con1 (outside); A 11-20 01:00 con2; B 11-03 01:00 con3.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from cloud.catalog.models import Project, Site
from cloud.deals.models import Deal, DealChange
from cloud.inventory.models import Building, ReleaseBatch, Unit
from cloud.reception.models import CallRecord, VisitProfileRecord
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.settings import CloudSettings
from shared.phone import mask_phone
from shared.timeutil import shanghai_date
from tests.cloud import make_user

FROM, TO = date(2026, 11, 1), date(2026, 11, 30)
YUAN = 100


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Office:
    projects: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)


def _id(row: object) -> int:
    value = getattr(row, "id")  # noqa: B009 - rows of several models
    assert isinstance(value, int)
    return value


def build(db: Session, settings: CloudSettings) -> Office:
    o = Office()
    for key in ("a", "b"):
        db.add(Site(id=f"site-{key}", name=f"案场{key.upper()}"))
        db.flush()
        project = Project(site_id=f"site-{key}", name=f"项目{key.upper()}")
        db.add(project)
        db.flush()
        o.projects[key] = _id(project)
    db.commit()
    for username, roles, sites, everything in (
            ("hqall", ["hq_manager"], [], True), ("mgr_a", ["sales_manager"], ["site-a"], False),
            ("con1", ["consultant"], ["site-a"], False),
            ("con2", ["consultant"], ["site-a"], False),
            ("con3", ["consultant"], ["site-b"], False)):
        o.users[username] = _id(make_user(db, username, roles=roles, site_ids=sites,
                                          scope_all=everything, display_name=f"顾问{username}"))
    _visits(db, settings, o)
    _units(db, o)
    _deals(db, settings, o)
    _calls(db, settings, o)
    db.commit()
    return o


def _calls(db: Session, settings: CloudSettings, o: Office) -> None:
    for project, phone, consultant, when in (
            ("a", "13800000001", "con1", "2026-11-01T01:00:00"),
            ("a", "13900000002", "con2", "2026-10-31T16:10:00"),
            ("a", "13900000003", "con1", "2026-10-31T15:50:00"),
            ("a", "13900000004", "con2", "2026-11-20T01:00:00"),
            ("b", "13900000005", "con3", "2026-11-03T01:00:00")):
        moment = at(when)
        db.add(CallRecord(
            id=str(uuid.uuid4()), site_id=f"site-{project}", project_id=o.projects[project],
            phone_enc=settings.cipher.encrypt(phone, context="call.phone"),
            phone_bidx=settings.blind_index.phone(phone), phone_masked=mask_phone(phone),
            consultant_id=o.users[consultant], recorded_by="kiosk:10.0.0.5",
            occurred_at=moment, call_date=shanghai_date(moment), event_seq=1))
    db.flush()


def _customer(db: Session, settings: CloudSettings, o: Office, name: str, project: str,
              phone: str, first: datetime, visits: int) -> int:
    customer = Customer(
        project_id=o.projects[project],
        phone_enc=settings.cipher.encrypt(phone, context="customer.phone"),
        phone_bidx=settings.blind_index.phone(phone),
        phone34_bidx=settings.blind_index.phone_masked(mask_phone(phone)),
        phone_masked=mask_phone(phone), first_visit_at=first, last_visit_at=first,
        protection_until=first, visit_count=visits)
    db.add(customer)
    db.flush()
    o.customers[name] = _id(customer)
    return o.customers[name]


def _visit(db: Session, o: Office, customer: str, project: str, consultant: str,
           when: str, source: str, first: bool, **profile: Any) -> None:
    moment = at(when)
    visit_id = str(uuid.uuid4())
    db.add(Visit(id=visit_id, site_id=f"site-{project}", project_id=o.projects[project],
                 customer_id=o.customers[customer], consultant_id=o.users[consultant],
                 party_size=2, source=source, is_first_visit=first,
                 visit_date=shanghai_date(moment), occurred_at=moment, edge_occurred_at=moment,
                 event_seq=1))
    db.flush()
    if profile:
        db.add(VisitProfileRecord(visit_id=visit_id, **profile))
        db.flush()


def _visits(db: Session, settings: CloudSettings, o: Office) -> None:
    for name, project, phone, first, count in (
            ("K1", "a", "13800000001", "2026-11-01T02:00:00", 2),
            ("K2", "a", "13800000002", "2026-10-31T16:30:00", 1),
            ("K3", "a", "13800000003", "2026-10-31T15:59:00", 2),
            ("K4", "a", "13800000004", "2026-11-20T02:00:00", 1),
            ("K5", "b", "13800000005", "2026-11-03T02:00:00", 1)):
        _customer(db, settings, o, name, project, phone, at(first), count)
    _visit(db, o, "K1", "a", "con1", "2026-11-01T02:00:00", "natural", True, layout="三室",
           grade="A", purpose="own_use", area_min=100, area_max=120, budget_min=250,
           budget_max=300, awareness="call", gender="male", phone_region="上海")
    _visit(db, o, "K1", "a", "con1", "2026-11-05T02:00:00", "natural", False)
    _visit(db, o, "K2", "a", "con2", "2026-10-31T16:30:00", "channel", True, layout="两室",
           grade="B", purpose="investment", area_min=80, budget_min=150, awareness="online",
           gender="female")
    _visit(db, o, "K3", "a", "con1", "2026-10-31T15:59:00", "natural", True)
    _visit(db, o, "K3", "a", "con1", "2026-11-10T02:00:00", "natural", False)
    _visit(db, o, "K4", "a", "con2", "2026-11-20T02:00:00", "referral_old_customer", True)
    _visit(db, o, "K5", "b", "con3", "2026-11-03T02:00:00", "natural", True)
    for customer, consultant, when, reached in (("K2", "con2", "2026-11-02T03:00:00", True),
                                                ("K4", "con2", "2026-11-21T03:00:00", False)):
        db.add(FollowUp(id=str(uuid.uuid4()), site_id="site-a", project_id=o.projects["a"],
                        customer_id=o.customers[customer], consultant_id=o.users[consultant],
                        kind="call", reached=reached, effective=reached, occurred_at=at(when),
                        recorded_via="cloud"))
    db.flush()


def _units(db: Session, o: Office) -> None:
    building = Building(project_id=o.projects["a"], name="1号楼")
    db.add(building)
    db.flush()
    for name, kind in (("首开", "first_opening"), ("加推", "add_on")):
        batch = ReleaseBatch(project_id=o.projects["a"], name=name, kind=kind,
                             released_by=o.users["mgr_a"])
        db.add(batch)
        db.flush()
        o.batches[name] = _id(batch)
    for name, layout, state, batch_name in (
            ("U1", "三室", "subscribed", "首开"), ("U2", "三室", "signed", "首开"),
            ("U3", "两室", "available", "首开"), ("U4", "两室", "signed", "首开"),
            ("U5", "三室", "available", "加推"), ("U6", "两室", "delivered", "加推"),
            ("U7", "三室", "unreleased", None)):
        unit = Unit(project_id=o.projects["a"], building_id=_id(building), floor=1,
                    room=name, layout=layout, area_centi=10_000, list_price_fen=300_000_000,
                    floor_price_fen=100_000_000, state=state,
                    batch_id=o.batches[batch_name] if batch_name else None)
        db.add(unit)
        db.flush()
        o.units[name] = _id(unit)


def _deal(db: Session, settings: CloudSettings, o: Office, project: str, customer: str,
          unit: str | None, kind: str, status: str, consultant: str, approved: str | None,
          yuan: int) -> int:
    deal = Deal(project_id=o.projects[project], customer_id=o.customers[customer],
                unit_id=o.units[unit] if unit else None, kind=kind, status=status,
                buyer_name_enc=settings.cipher.encrypt("张三", context="deal.buyer_name"),
                payment_method="full", price_fen=yuan * YUAN, consultant_id=o.users[consultant],
                created_by=o.users[consultant], approved_by=o.users["mgr_a"] if approved else None,
                approved_at=at(approved) if approved else None)
    db.add(deal)
    db.flush()
    return _id(deal)


def _deals(db: Session, settings: CloudSettings, o: Office) -> None:
    d = _deal
    d(db, settings, o, "a", "K1", None, "pledge", "approved", "con1", "2026-11-02T02:00:00", 0)
    d(db, settings, o, "a", "K1", "U1", "subscription", "approved", "con1",
      "2026-11-03T02:00:00", 1_000_000)
    d(db, settings, o, "a", "K2", "U2", "subscription", "converted", "con2",
      "2026-11-04T02:00:00", 2_000_000)
    d(db, settings, o, "a", "K2", "U2", "contract", "approved", "con2", "2026-11-06T02:00:00",
      2_000_000)
    returned = d(db, settings, o, "a", "K3", "U4", "contract", "returned", "con1",
                 "2026-11-07T02:00:00", 1_500_000)
    swapped = d(db, settings, o, "a", "K4", "U6", "contract", "approved", "con2",
                "2026-11-25T02:00:00", 1_200_000)
    d(db, settings, o, "a", "K3", None, "subscription", "approved", "con1",
      "2026-10-30T02:00:00", 99)
    d(db, settings, o, "a", "K2", None, "subscription", "submitted", "con2", None, 3_000_000)
    d(db, settings, o, "b", "K5", None, "subscription", "approved", "con3",
      "2026-11-05T02:00:00", 500_000)
    for deal_id, kind, decided in ((returned, "cancel", "2026-11-15T02:00:00"),
                                   (swapped, "swap", "2026-11-26T02:00:00")):
        db.add(DealChange(deal_id=deal_id, project_id=o.projects["a"], kind=kind,
                          new_unit_id=o.units["U5"] if kind == "swap" else None,
                          reason="客户要求", status="applied", requested_by=o.users["con1"],
                          decided_by=o.users["mgr_a"], decided_at=at(decided)))
    db.flush()
