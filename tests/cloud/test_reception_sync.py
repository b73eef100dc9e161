"""Reception events applied by the cloud (real database): the rota's history, a visit's
profile with its 号码归属地, a stand-in's credit, a claim, same-day corrections audited
and late ones refused, replays merged."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit.models import AuditLog
from cloud.reception.models import RotaEventRecord, VisitProfileRecord
from cloud.reception.regions import erase_profiles
from cloud.reception.service import CreditShare, deal_credit
from cloud.sales.models import Customer, Visit
from cloud.sales.ownership_models import OwnershipEvent
from cloud.settings import CloudSettings
from cloud.sync.models import SyncEvent
from shared.events import VISIT_REGISTERED
from shared.reception_events import ROTA_CHANGED, VISIT_PROFILED
from shared.timeutil import shanghai_date, utcnow
from tests.cloud.sales_world import PHONE_A, apply, build_world, envelope


def rota(project_id: int, consultant: int, action: str, **extra: Any) -> dict[str, Any]:
    return {"rota_event_id": str(uuid.uuid4()), "project_id": project_id,
            "duty_date": str(shanghai_date(utcnow())),
            "occurred_at": utcnow().isoformat(), "consultant_id": consultant,
            "action": action, "actor": "kiosk:10.0.0.5", "reason": "测试", **extra}


def outcomes(db: Session) -> list[tuple[str, str, str | None]]:
    rows = db.exec(select(SyncEvent).where(SyncEvent.site_id == "site-a")
                   .order_by(SyncEvent.seq)).all()
    return [(r.type, r.outcome, r.detail.get("reason")) for r in rows]


def test_rota_events_and_a_profile_round_trip(db: Session, settings: CloudSettings) -> None:
    world = build_world(db, settings)
    site, wang, li = world["site-a"], world["consult_a"], world["consult_a2"]
    visit_id = str(uuid.uuid4())
    check_in = rota(site.project_id, li, "check_in")
    events = [
        envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED, check_in),
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, {
            "visit_id": visit_id, "project_id": site.project_id, "phone": PHONE_A,
            "party_size": 3, "consultant_id": li}),
        envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED,
                 rota(site.project_id, wang, "stand_in", visit_id=visit_id,
                      detail={"stand_in": li, "share_percent": 50})),
        envelope(site.key, "site-a", site.next_seq(), VISIT_PROFILED, {
            "visit_id": visit_id, "project_id": site.project_id, "revision": 0,
            "profile": {"gender": "male", "awareness": "friend", "layout": "三室",
                        "budget_min": 200, "budget_max": 300, "purpose": "investment",
                        "grade": "A"},
            "party_size": 3, "source": "referral_old_customer", "stand_in_for": wang,
            "stand_in_share": 50}),
        envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED, check_in),  # replayed
    ]
    result = apply(db, settings, "site-a", events)
    assert result.acked_seq == site.seq
    assert [o[1] for o in outcomes(db)[-5:]] == [
        "applied", "merged", "applied", "rejected", "merged"]  # the visit: same customer-day
    # The second registration of PHONE_A today merged into the world's visit: the profile
    # of an unknown visit id is refused, the rota's own rows stay.
    assert outcomes(db)[-2] == (VISIT_PROFILED, "rejected", "visit_not_in_site")
    rows = db.exec(select(RotaEventRecord).order_by(RotaEventRecord.event_seq)).all()
    assert [(r.action, r.consultant_id) for r in rows] == [("check_in", li), ("stand_in", wang)]
    assert rows[1].detail == {"stand_in": li, "share_percent": 50} and rows[1].visit_id is None


def test_profile_region_credit_and_corrections(db: Session, settings: CloudSettings) -> None:
    world = build_world(db, settings)
    site, wang, li = world["site-a"], world["consult_a"], world["consult_a2"]
    manager = world["manager_a"]
    visit_id, phone = str(uuid.uuid4()), "13812345678"
    profile = {"visit_id": visit_id, "project_id": site.project_id, "revision": 0,
               "profile": {"gender": "female", "grade": "B"}, "stand_in_for": None}
    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, {
            "visit_id": visit_id, "project_id": site.project_id, "phone": phone,
            "party_size": 1, "consultant_id": li}),
        envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED,
                 rota(site.project_id, li, "turn_consumed", visit_id=visit_id)),
        envelope(site.key, "site-a", site.next_seq(), VISIT_PROFILED, profile),
    ])
    row = db.get(VisitProfileRecord, visit_id)
    assert row is not None and row.phone_region == "江苏省连云港市"
    assert (row.gender, row.grade, row.consumed_turn, row.revision) == ("female", "B", True, 0)
    correction = {**profile, "revision": 1, "profile": {"gender": "female", "grade": "A"},
                  "party_size": 4, "corrected_by": manager, "reason": "等级填错"}
    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_PROFILED, correction),
        envelope(site.key, "site-a", site.next_seq(), VISIT_PROFILED, correction),  # again
    ])
    # Yesterday's visit, corrected today: refused (no back-filling of earlier days).
    yesterday = str(uuid.uuid4())
    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, {
            "visit_id": yesterday, "project_id": site.project_id, "phone": "13812345679",
            "party_size": 1, "consultant_id": li}, at=utcnow() - timedelta(days=1)),
        envelope(site.key, "site-a", site.next_seq(), VISIT_PROFILED,
                 {**correction, "visit_id": yesterday}),
    ])
    db.refresh(row)
    visit = db.get(Visit, visit_id)
    assert visit is not None and visit.party_size == 4
    assert (row.grade, row.revision, row.corrected_by) == ("A", 1, manager)
    assert [o[1:] for o in outcomes(db)[-4:]] == [
        ("applied", None), ("merged", None), ("applied", None),
        ("rejected", "visit_correction_closed")]
    audit = db.exec(select(AuditLog).where(AuditLog.action == "visit.correct")).all()
    assert len(audit) == 1 and audit[0].object_id == visit_id
    assert audit[0].detail["changes"] == {"grade": ["B", "A"], "party_size": [1, 4]}
    # No stand-in that day: the owner alone is credited.
    customer = db.exec(select(Customer).where(Customer.id == visit.customer_id)).one()
    assert customer.id is not None
    day = visit.visit_date
    assert deal_credit(db, customer.id, day) == [CreditShare(li, 100)]
    row.stand_in_for_id, row.stand_in_share = wang, 50
    customer.owner_id = wang
    db.add_all([row, customer])
    db.commit()
    # The visit's receiver (li) stood in for the owner (wang): 50/50 on that day only.
    assert deal_credit(db, customer.id, day) == [CreditShare(wang, 50), CreditShare(li, 50)]
    assert deal_credit(db, customer.id, day + timedelta(days=1)) == [CreditShare(wang, 100)]
    # A deletion request blanks what the profile says of the person, not the rota facts.
    erase_profiles(db, [visit_id])
    db.commit()
    db.refresh(row)
    assert (row.gender, row.grade, row.phone_region) == (None, None, None)
    assert (row.consumed_turn, row.stand_in_share) == (True, 50)


def test_a_claim_moves_the_customer_only_from_the_receiver(
    db: Session, settings: CloudSettings
) -> None:
    world = build_world(db, settings)
    site, wang, li = world["site-a"], world["consult_a"], world["consult_a2"]
    visit_id = str(uuid.uuid4())
    apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, {
            "visit_id": visit_id, "project_id": site.project_id, "phone": "13655556666",
            "party_size": 1, "consultant_id": li}),
        envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED, rota(
            site.project_id, wang, "claimed", visit_id=visit_id, detail={"receiver": li},
            actor=f"user:{world['manager_a']}")),
        envelope(site.key, "site-a", site.next_seq(), ROTA_CHANGED, rota(
            site.project_id, li, "claimed", visit_id=visit_id, detail={"receiver": li})),
    ])
    visit = db.get(Visit, visit_id)
    assert visit is not None
    customer = db.get(Customer, visit.customer_id)
    assert customer is not None and customer.owner_id == wang
    details = [e.detail for e in db.exec(select(SyncEvent).where(
        SyncEvent.type == ROTA_CHANGED).order_by(SyncEvent.seq)).all()]
    assert details[-2]["claim"] == "applied" and details[-1]["claim"] == "owner_changed"
    claims = db.exec(select(AuditLog).where(AuditLog.action == "customer.claim")).all()
    assert len(claims) == 1 and claims[0].detail["to"] == wang
    # The ownership path shows the claim after the first reception.
    path = db.exec(select(OwnershipEvent).where(OwnershipEvent.customer_id == customer.id)
                   .order_by(col(OwnershipEvent.id))).all()
    assert [(p.kind, p.from_owner_id, p.to_owner_id) for p in path][-1] == ("claim", li, wang)
