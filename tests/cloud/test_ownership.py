"""Customer ownership in the cloud: the sweep around the Beijing day boundary, warnings,
warn-only projects, customers at 认筹 or later, protection restarted by a return visit,
撞单 from synced visits, pick-up approval, transfers and allocations with their path,
invalid customers, the per-project settings — on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cloud.channel.appeal_models import Notification
from cloud.jobs.celery_app import TASK_PREFIX, create_celery
from cloud.sales import ownership
from cloud.sales.models import Customer
from cloud.sales.ownership_models import Collision, OwnershipEvent, OwnershipSetting
from cloud.settings import CloudSettings
from cloud.sync.models import DownFeed
from shared.timeutil import as_utc, utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.cloud.migration_drift import drift
from tests.cloud.ownership_world import customer_of, to_pool, visit
from tests.cloud.sales_world import PHONE_A

OWNERSHIP_TABLES = ("customer", "sales_ownership_setting", "sales_ownership_event",
                    "sales_collision", "sales_pickup_request")


def _customer(db: Session, customer_id: int) -> Customer:
    db.rollback()
    found = db.exec(select(Customer).where(Customer.id == customer_id)
                    .execution_options(populate_existing=True)).one()
    return found


def _path(db: Session, customer_id: int) -> list[tuple[str, int | None, int | None]]:
    return [(e.kind, e.from_owner_id, e.to_owner_id) for e in db.exec(
        select(OwnershipEvent).where(OwnershipEvent.customer_id == customer_id)
        .order_by(col(OwnershipEvent.id))).all()]


def _contacted(db: Session, customer_id: int, at: datetime) -> Customer:
    """The customer's last effective contact and assignment at `at`, protection far off."""
    customer = _customer(db, customer_id)
    customer.last_effective_at = customer.owned_since = at
    customer.protection_until = at + timedelta(days=365)
    db.add(customer)
    db.commit()
    return customer


def test_the_migration_matches_the_models(engine: Engine) -> None:
    assert drift(engine, OWNERSHIP_TABLES) == []


# ---- the sweep ------------------------------------------------------------------------


def test_the_pool_job_lapses_at_beijing_midnight_after_the_seventh_day(
    db: Session, world: dict[str, Any]
) -> None:
    """Contact at 01:00 Beijing on Jan 2 (still Jan 1 in UTC): the follow-up is due by the
    end of Jan 9, Beijing time; the customer lapses at 00:00 Beijing on Jan 10 — 16:00
    UTC on Jan 9 — not at a UTC midnight."""
    site = world["site-a"]
    _contacted(db, site.customer_id, datetime(2026, 1, 1, 17, 0, tzinfo=UTC))

    ownership.sweep(db, now=datetime(2026, 1, 9, 15, 59, 59, tzinfo=UTC))
    db.commit()
    kept = _customer(db, site.customer_id)
    assert (kept.ownership, kept.owner_id) == ("owned", world["consult_a"])

    run = ownership.sweep(db, now=datetime(2026, 1, 9, 16, 0, tzinfo=UTC))
    db.commit()
    assert (run.overdue, run.pooled) == (1, 1)
    lapsed = _customer(db, site.customer_id)
    assert (lapsed.ownership, lapsed.owner_id, lapsed.previous_owner_id) == (
        "public", None, world["consult_a"])
    assert as_utc(lapsed.lapsed_at or utcnow()) == datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
    assert _path(db, site.customer_id)[-2:] == [
        ("overdue", world["consult_a"], world["consult_a"]),
        ("to_pool", world["consult_a"], None)]
    assert ownership.sweep(db, now=datetime(2026, 2, 1, tzinfo=UTC)).pooled == 0


def test_the_owner_is_warned_once_two_beijing_days_before(
    db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    _contacted(db, site.customer_id, datetime(2026, 1, 1, 17, 0, tzinfo=UTC))
    # Warnings from 00:00 Beijing on Jan 8 (16:00 UTC Jan 7).
    assert ownership.sweep(db, now=datetime(2026, 1, 7, 15, 59, tzinfo=UTC)).warned == 0
    assert ownership.sweep(db, now=datetime(2026, 1, 7, 16, 0, tzinfo=UTC)).warned == 1
    assert ownership.sweep(db, now=datetime(2026, 1, 8, 9, 0, tzinfo=UTC)).warned == 0
    db.commit()
    [note] = db.exec(select(Notification).where(
        Notification.kind == ownership.NOTIFY_KIND)).all()
    assert note.user_id == world["consult_a"]
    assert note.data["customer_id"] == site.customer_id
    assert "2026-01-10 00:00" in note.body  # the deadline in Beijing time
    # A new contact moves the deadline: the owner is warned again before the new one.
    _contacted(db, site.customer_id, datetime(2026, 1, 8, 10, 0, tzinfo=UTC))
    assert ownership.sweep(db, now=datetime(2026, 1, 14, 16, 0, tzinfo=UTC)).warned == 1


def test_a_warn_only_project_marks_overdue_and_keeps_the_owner(
    db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    db.add(OwnershipSetting(project_id=site.project_id, lapse_action="warn"))
    db.commit()
    _contacted(db, site.customer_id, datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    run = ownership.sweep(db, now=datetime(2026, 3, 1, tzinfo=UTC))
    db.commit()
    assert (run.overdue, run.pooled) == (1, 0)
    customer = _customer(db, site.customer_id)
    assert (customer.ownership, customer.owner_id) == ("overdue", world["consult_a"])
    assert ownership.sweep(db, now=datetime(2026, 4, 1, tzinfo=UTC)).overdue == 0


def test_the_follow_up_period_is_a_project_setting(
    db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    db.add(OwnershipSetting(project_id=site.project_id, follow_up_days=3))
    db.commit()
    _contacted(db, site.customer_id, datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    # Jan 1 + 3 days: lapses at 00:00 Beijing on Jan 5.
    assert ownership.sweep(db, now=datetime(2026, 1, 4, 15, 59, tzinfo=UTC)).pooled == 0
    assert ownership.sweep(db, now=datetime(2026, 1, 4, 16, 0, tzinfo=UTC)).pooled == 1


def test_protection_ending_lapses_a_customer_followed_up_but_not_back(
    db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    customer = _contacted(db, site.customer_id, datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    customer.protection_until = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    db.add(customer)
    db.commit()
    assert ownership.sweep(db, now=datetime(2026, 1, 5, 1, 59, tzinfo=UTC)).pooled == 0
    assert ownership.sweep(db, now=datetime(2026, 1, 5, 2, 0, tzinfo=UTC)).pooled == 1
    db.commit()
    [step] = db.exec(select(OwnershipEvent).where(OwnershipEvent.kind == "to_pool")).all()
    assert step.reason == "protection_ended"


def test_customers_at_pledge_or_later_never_lapse(
    db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    for stage in ("pledged", "subscribed", "to_sign", "signed"):
        customer = _contacted(db, site.customer_id, datetime(2025, 1, 1, tzinfo=UTC))
        customer.status = stage
        db.add(customer)
        db.commit()
        run = ownership.sweep(db, now=datetime(2026, 6, 1, tzinfo=UTC))
        assert (run.warned, run.overdue, run.pooled) == (0, 0, 0), stage
    customer = _customer(db, site.customer_id)
    customer.status = "visited"
    db.add(customer)
    db.commit()
    assert ownership.sweep(db, now=datetime(2026, 6, 1, tzinfo=UTC)).pooled == 1


# ---- synced visits --------------------------------------------------------------------


def test_a_return_visit_restarts_protection_and_revives_an_overdue_owner(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site, phone = world["site-a"], "13711112222"
    first_at = utcnow() - timedelta(days=20)
    visit(db, settings, "site-a", site, phone, world["consult_a"], at=first_at)
    customer = customer_of(db, site, phone, settings)
    assert as_utc(customer.protection_until) == first_at + timedelta(days=30)
    assert customer.ownership == "owned" and as_utc(customer.owned_since or utcnow()) == first_at
    db.add(OwnershipSetting(project_id=site.project_id, lapse_action="warn"))
    db.commit()
    ownership.sweep(db)
    db.commit()
    assert customer_of(db, site, phone, settings).ownership == "overdue"

    back_at = utcnow() - timedelta(days=1)
    visit(db, settings, "site-a", site, phone, world["consult_a"], at=back_at)
    customer = customer_of(db, site, phone, settings)
    assert as_utc(customer.protection_until) == back_at + timedelta(days=30)
    assert (customer.ownership, customer.owner_id) == ("owned", world["consult_a"])
    assert customer.visit_count == 2
    assert customer.id is not None
    assert [k for k, _, _ in _path(db, customer.id)] == ["receive", "overdue", "return_visit"]


def test_protection_days_come_from_the_project(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    db.add(OwnershipSetting(project_id=site.project_id, protection_days=15))
    db.commit()
    at = utcnow() - timedelta(hours=1)
    visit(db, settings, "site-a", site, "13711113333", world["consult_a2"], at=at)
    customer = customer_of(db, site, "13711113333", settings)
    assert as_utc(customer.protection_until) == at + timedelta(days=15)


def test_a_second_consultant_registering_a_known_phone_is_a_collision(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    other_day = utcnow() - timedelta(days=2)
    visit_id = visit(db, settings, "site-a", site, PHONE_A, world["consult_a2"], at=other_day)
    [row] = db.exec(select(Collision)).all()
    assert (row.customer_id, row.visit_id, row.owner_id, row.consultant_id) == (
        site.customer_id, visit_id, world["consult_a"], world["consult_a2"])
    # The owner stays; the same owner's own return visit is no collision.
    assert _customer(db, site.customer_id).owner_id == world["consult_a"]
    visit(db, settings, "site-a", site, PHONE_A, world["consult_a"],
          at=utcnow() - timedelta(days=4))
    assert len(db.exec(select(Collision)).all()) == 1

    manager = signed_in(client, "manager_a")
    listed = client.get("/api/v1/ownership/customers", headers=manager,
                        params={"category": "collided"}).json()
    assert [c["customer_id"] for c in listed["items"]] == [site.customer_id]
    assert listed["items"][0]["open_collisions"] == 1
    collisions = client.get("/api/v1/ownership/collisions", headers=manager).json()
    assert [(c["owner_name"], c["consultant_name"]) for c in collisions] == [
        ("consult_a", "consult_a2")]
    resolved = client.post(f"/api/v1/ownership/collisions/{row.id}/resolve", headers=manager)
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    assert client.get("/api/v1/ownership/collisions", headers=manager).json() == []
    assert audit_rows(db, "customer.collision_resolve")
    # Another site's manager learns nothing of it.
    assert client.post(f"/api/v1/ownership/collisions/{row.id}/resolve",
                       headers=signed_in(client, "consult_b")).status_code == 403


# ---- the public pool ------------------------------------------------------------------


def test_a_pool_pickup_needs_a_sales_directors_approval(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    to_pool(db, _customer(db, site.customer_id))
    url = f"/api/v1/customers/{site.customer_id}/pickup-requests"
    old_owner, other = signed_in(client, "consult_a"), signed_in(client, "consult_a2")

    refused = client.post(url, headers=old_owner, json={})
    assert refused.status_code == 403 and problem(refused)["code"] == "pool_reclaim_refused"
    asked = client.post(url, headers=other, json={"reason": "客户来电咨询"})
    assert asked.status_code == 201, asked.text
    again = client.post(url, headers=other, json={})
    assert problem(again)["code"] == "pickup_already_requested"
    request_id = asked.json()["id"]
    assert _customer(db, site.customer_id).owner_id is None  # nothing until approved

    decide = f"/api/v1/pool/pickup-requests/{request_id}/decision"
    assert client.post(decide, headers=other, json={"approve": True}).status_code == 403
    pool = client.get("/api/v1/ownership/customers", headers=other,
                      params={"category": "public"}).json()
    assert [c["customer_id"] for c in pool["items"]] == [site.customer_id]
    assert pool["items"][0]["previous_owner_name"] == "consult_a"
    mine = client.get("/api/v1/pool/pickup-requests", headers=other).json()
    assert [(r["id"], r["status"]) for r in mine] == [(request_id, "pending")]
    assert client.get("/api/v1/pool/pickup-requests", headers=old_owner).json() == []

    # The sales manager transfers and allocates, but a pick-up is the director's to approve.
    manager = client.post(decide, headers=signed_in(client, "manager_a"), json={"approve": True})
    assert manager.status_code == 403, manager.text
    director_id = make_user(db, "zongjian", roles=["sales_director"], site_ids=["site-a"]).id
    director = signed_in(client, "zongjian")
    approved = client.post(decide, headers=director, json={"approve": True, "note": "同意"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by_name"]) == (
        "approved", "zongjian")
    assert problem(client.post(decide, headers=director, json={"approve": False}))[
        "code"] == "pickup_already_decided"
    customer = _customer(db, site.customer_id)
    assert (customer.ownership, customer.owner_id) == ("owned", world["consult_a2"])
    assert as_utc(customer.protection_until) > utcnow() + timedelta(days=29)
    assert _path(db, site.customer_id)[-1] == ("pickup", world["consult_a"],
                                               world["consult_a2"])
    [audit] = audit_rows(db, "customer.pickup_approve")
    assert audit.actor_id == director_id
    assert audit_rows(db, "customer.pickup_request")


def test_a_refused_pickup_leaves_the_customer_in_the_pool(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    to_pool(db, _customer(db, site.customer_id))
    asked = client.post(f"/api/v1/customers/{site.customer_id}/pickup-requests",
                        headers=signed_in(client, "consult_a2"), json={})
    make_user(db, "zongjian", roles=["sales_director"], site_ids=["site-a"])
    refused = client.post(f"/api/v1/pool/pickup-requests/{asked.json()['id']}/decision",
                          headers=signed_in(client, "zongjian"),
                          json={"approve": False, "note": "先由经理分配"})
    assert refused.json()["status"] == "refused"
    assert _customer(db, site.customer_id).ownership == "public"
    assert audit_rows(db, "customer.pickup_refuse")


def test_the_old_owner_may_pick_back_after_the_cooldown(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    db.add(OwnershipSetting(project_id=site.project_id, reclaim_cooldown_days=3))
    db.commit()
    to_pool(db, _customer(db, site.customer_id))
    url = f"/api/v1/customers/{site.customer_id}/pickup-requests"
    old_owner = signed_in(client, "consult_a")
    assert client.post(url, headers=old_owner, json={}).status_code == 403
    customer = _customer(db, site.customer_id)
    customer.lapsed_at = utcnow() - timedelta(days=3, minutes=1)
    db.add(customer)
    db.commit()
    assert client.post(url, headers=old_owner, json={}).status_code == 201


# ---- managers -------------------------------------------------------------------------


def test_a_manager_transfers_and_allocates_with_the_path_logged(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    manager = signed_in(client, "manager_a")
    url = f"/api/v1/customers/{site.customer_id}/assign"
    body = {"to_user_id": world["consult_a2"], "expected_owner_id": world["consult_a"],
            "expected_ownership": "owned", "reason": "顾问离职交接"}
    moved = client.post(url, headers=manager, json=body)
    assert moved.status_code == 200, moved.text
    card = moved.json()
    assert (card["customer"]["owner_name"], card["customer"]["previous_owner_name"]) == (
        "consult_a2", "consult_a")
    step = card["path"][-1]
    assert (step["kind"], step["from_owner_name"], step["to_owner_name"], step["actor_name"],
            step["category"], step["reason"]) == (
        "transfer", "consult_a", "consult_a2", "manager_a", "in_progress", "顾问离职交接")
    db.rollback()
    fed = db.exec(select(DownFeed).where(DownFeed.kind == "customer")
                  .order_by(col(DownFeed.offset).desc())).first()
    assert fed is not None and fed.data["owner_id"] == world["consult_a2"]
    # What the manager saw has changed: a second click is refused, nothing moves.
    stale = client.post(url, headers=manager, json=body)
    assert stale.status_code == 409 and problem(stale)["code"] == "ownership_changed"
    # Only the site's staff may receive a customer.
    other_site = client.post(url, headers=manager, json={
        **body, "to_user_id": world["consult_b"], "expected_owner_id": world["consult_a2"]})
    assert problem(other_site)["code"] == "assignee_not_site_staff"

    to_pool(db, _customer(db, site.customer_id))
    allocated = client.post(url, headers=manager, json={
        "to_user_id": world["consult_a"], "expected_owner_id": None,
        "expected_ownership": "public", "reason": "公客分配"})
    assert allocated.status_code == 200, allocated.text
    kinds = [(s["kind"], s["category"]) for s in allocated.json()["path"]]
    assert kinds[-1] == ("allocate", "public")
    assert [a.detail["category"] for a in audit_rows(db, "customer.transfer")] == [
        "in_progress"]
    assert audit_rows(db, "customer.allocate")


def test_invalid_customers_leave_every_list_until_allocated(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    manager = signed_in(client, "manager_a")
    marked = client.post(f"/api/v1/customers/{site.customer_id}/invalidate", headers=manager,
                         json={"expected_ownership": "owned", "reason": "空号"})
    assert marked.status_code == 200, marked.text
    assert (marked.json()["customer"]["ownership"], marked.json()["customer"]["owner_id"]) == (
        "invalid", None)
    consultant = signed_in(client, "consult_a")
    assert client.get("/api/v1/ownership/customers", headers=consultant).json()["total"] == 0
    listed = client.get("/api/v1/ownership/customers", headers=manager,
                        params={"category": "invalid"}).json()
    assert [c["customer_id"] for c in listed["items"]] == [site.customer_id]
    back = client.post(f"/api/v1/customers/{site.customer_id}/assign", headers=manager, json={
        "to_user_id": world["consult_a"], "expected_owner_id": None,
        "expected_ownership": "invalid", "reason": "核实为真实客户"})
    assert back.json()["path"][-1]["category"] == "invalid"
    assert client.get("/api/v1/ownership/customers", headers=consultant).json()["total"] == 1


def test_a_consultant_lists_only_their_customers_and_the_pool(
    client: TestClient, world: dict[str, Any]
) -> None:
    consultant = signed_in(client, "consult_a")
    mine = client.get("/api/v1/ownership/customers", headers=consultant).json()
    assert [c["customer_id"] for c in mine["items"]] == [world["site-a"].customer_id]
    row = mine["items"][0]
    assert row["lapse_reason"] == "follow_up_overdue" and row["lapse_at"] and row["warn_from"]
    for category in ("overdue", "collided", "invalid", "in_progress", "channel", "all"):
        refused = client.get("/api/v1/ownership/customers", headers=consultant,
                             params={"category": category})
        assert problem(refused)["code"] == "ownership_category_forbidden", category


def test_the_ownership_settings_are_per_project_and_audited(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    url = f"/api/v1/projects/{site.project_id}/ownership-settings"
    defaults = client.get(url, headers=signed_in(client, "consult_a")).json()
    assert defaults == {"protection_days": 30, "follow_up_days": 7, "warn_days": 2,
                        "lapse_action": "pool", "reclaim_cooldown_days": None}
    manager = signed_in(client, "manager_a")
    saved = client.put(url, headers=manager, json={**defaults, "follow_up_days": 5})
    assert saved.status_code == 200 and saved.json()["follow_up_days"] == 5
    assert client.get(url, headers=manager).json()["follow_up_days"] == 5
    [audit] = audit_rows(db, "sales.ownership_settings")
    assert (audit.detail["before"]["follow_up_days"], audit.detail["after"]["follow_up_days"]
            ) == (7, 5)
    bad = client.put(url, headers=manager, json={**defaults, "follow_up_days": 0})
    assert bad.status_code == 422
    other = client.get(f"/api/v1/projects/{world['site-b'].project_id}/ownership-settings",
                       headers=manager)
    assert other.status_code == 404


def test_the_celery_job_releases_and_tells_the_appliance(
    db: Session, settings: CloudSettings, engine: Engine, world: dict[str, Any]
) -> None:
    """Through Celery (eager, as in the demo): the lapsed customer reaches the site's
    down-feed with no owner, so the appliance stops routing the return to the old owner."""
    site = world["site-a"]
    _contacted(db, site.customer_id, utcnow() - timedelta(days=30))
    app = create_celery(settings.model_copy(update={"mode": "demo"}), engine)

    summary = app.tasks[TASK_PREFIX + "sales.ownership_sweep"].delay().get()

    assert (summary["overdue"], summary["pooled"]) == (1, 1)
    db.rollback()
    items = db.exec(select(DownFeed).where(DownFeed.kind == "customer",
                                           DownFeed.site_id == "site-a")
                    .order_by(col(DownFeed.offset))).all()
    assert items[-1].data["customer_ref"] == str(site.customer_id)
    assert items[-1].data["owner_id"] is None
    # The phone's customer 360 filters by ownership and stage from the appliance's copy.
    assert (items[-1].data["ownership"], items[-1].data["status"]) == ("public", "visited")
