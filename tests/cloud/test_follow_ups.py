"""Follow-ups in the cloud: the direct route (idempotent, permission, scope), sync apply
(set-based, merged with the route, rejected with a reason), reading, and edge tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from cloud.main import create_app
from cloud.sales.models import Customer, FollowUp, Visit
from cloud.settings import CloudSettings
from cloud.sync.models import SyncEvent
from shared import edge_token
from shared.events import FOLLOWUP_RECORDED, VISIT_REGISTERED
from shared.timeutil import utcnow
from tests.cloud import audit_rows, make_user, problem, signed_in
from tests.cloud.sales_world import (
    PHONE_A,
    PHONE_B,
    apply,
    body,
    envelope,
    follow_up_event,
    post,
    rows,
)
from tests.conftest import make_settings

# ---- the direct cloud route -----------------------------------------------------------


def test_the_direct_route_stores_a_follow_up_once(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    headers = signed_in(client, "consult_a")
    data = body(world["site-a"])
    first = post(client, headers, data)
    again = post(client, headers, {**data, "note": "重试时内容变了也不会改"})
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json() == first.json()
    out = first.json()
    assert out["consultant_id"] == world["consult_a"] and out["consultant_name"] == "consult_a"
    assert out["visit_id"] == world["site-a"].visit_id and out["site_id"] == "site-a"
    assert out["customer_id"] == world["site-a"].customer_id
    assert out["effective"] is True and out["recorded_via"] == "cloud"
    assert [r.id for r in rows(db)] == [data["id"]]
    [audit] = audit_rows(db, "follow_up.create")
    assert audit.actor_id == world["consult_a"] and audit.object_id == data["id"]


@pytest.mark.parametrize("key", [None, "not-the-id"], ids=["missing", "another"])
def test_the_direct_route_requires_the_id_as_idempotency_key(
    client: TestClient, world: dict[str, Any], db: Session, key: str | None
) -> None:
    response = post(client, signed_in(client, "consult_a"), body(world["site-a"]), key=key)
    assert response.status_code == 422
    assert problem(response)["code"] == "idempotency_key_mismatch"
    assert rows(db) == []


def test_writing_follow_ups_needs_the_permission(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    for username in ("reception_a", "hqadmin"):
        response = post(client, signed_in(client, username), body(world["site-a"]))
        assert response.status_code == 403, username
        assert problem(response)["missing_permissions"] == ["sales:followup:create"]
    manager = post(client, signed_in(client, "manager_a"), body(world["site-a"]))
    assert manager.status_code == 201
    assert len(rows(db)) == 1


def test_another_sites_visit_or_someone_elses_id_is_refused(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    other_site = post(client, signed_in(client, "consult_b"), body(world["site-a"]))
    assert other_site.status_code == 404 and problem(other_site)["code"] == "visit_not_found"
    data = body(world["site-a"])
    assert post(client, signed_in(client, "consult_a"), data).status_code == 201
    taken = post(client, signed_in(client, "consult_a2"), data)
    assert taken.status_code == 409 and problem(taken)["code"] == "idempotency_key_reused"
    assert len(rows(db)) == 1


def test_only_the_owner_or_a_manager_writes_on_a_customer(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    """A colleague of the same site may not put a follow-up on consult_a's customer: an
    effective one would extend a protection that is not theirs."""
    site = world["site-a"]
    colleague = post(client, signed_in(client, "consult_a2"), body(site))
    assert colleague.status_code == 403 and problem(colleague)["code"] == "not_customer_owner"
    by_phone = post(client, signed_in(client, "consult_a2"), body(
        site, visit_id=None, phone=PHONE_A, project_id=site.project_id, reached=False))
    assert by_phone.status_code == 403
    assert post(client, signed_in(client, "manager_a"), body(site)).status_code == 201
    assert post(client, signed_in(client, "consult_a"), body(site)).status_code == 201
    db.rollback()
    customer = db.get(Customer, site.customer_id, populate_existing=True)
    assert customer is not None
    customer.owner_id = None
    db.commit()
    unassigned = post(client, signed_in(client, "consult_a"), body(site))
    assert unassigned.status_code == 403
    assert problem(unassigned)["code"] == "customer_unassigned"
    assert len(rows(db)) == 2


@pytest.mark.parametrize(("kind", "reached", "note", "status"), [
    ("call", True, "", 422),
    ("call", True, "   ", 422),
    ("visit", False, "", 422),  # a visit is always effective
    ("call", False, "", 201),  # not reached: not effective, nothing to say
    ("call", True, "客户说周末带家人来看三房", 201),
])
def test_an_effective_follow_up_needs_content(
    client: TestClient, world: dict[str, Any], db: Session, kind: str, reached: bool,
    note: str, status: int,
) -> None:
    response = post(client, signed_in(client, "consult_a"),
                    body(world["site-a"], kind=kind, reached=reached, note=note))
    assert response.status_code == status, response.text
    if status == 422:
        assert problem(response)["code"] == "follow_up_content_required"
        assert "跟进内容" in problem(response)["detail"]
    assert len(rows(db)) == (1 if status == 201 else 0)


def test_the_customer_can_be_named_by_phone_or_id(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    headers = signed_in(client, "consult_a")
    site = world["site-a"]
    by_phone = post(client, headers, body(site, visit_id=None, phone="+86 138-0000-0001",
                                          project_id=site.project_id, kind="call",
                                          reached=False))
    assert by_phone.status_code == 201, by_phone.text
    assert by_phone.json()["customer_id"] == site.customer_id
    assert by_phone.json()["visit_id"] is None and by_phone.json()["effective"] is False
    by_id = post(client, headers, body(site, visit_id=None, customer_id=site.customer_id))
    assert by_id.status_code == 201
    unknown = post(client, headers, body(site, visit_id=None, phone="13612345678",
                                         project_id=site.project_id))
    assert unknown.status_code == 404 and problem(unknown)["code"] == "customer_not_found"
    foreign = post(client, headers, body(site, visit_id=None, phone=PHONE_B,
                                         project_id=world["site-b"].project_id))
    assert foreign.status_code == 404
    nothing = post(client, headers, body(site, visit_id=None))
    assert nothing.status_code == 422
    assert len(rows(db)) == 2


def test_follow_ups_are_read_per_customer_within_scope(
    client: TestClient, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    headers = signed_in(client, "consult_a")
    older = body(site, occurred_at=(utcnow() - timedelta(days=1)).isoformat(),
                 next_at=None)
    for data in (older, body(site)):
        assert post(client, headers, data).status_code == 201
    listed = client.get("/api/v1/follow-ups", params={"customer_id": site.customer_id},
                        headers=headers)
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()][1] == older["id"]  # newest first
    other = client.get("/api/v1/follow-ups", params={"customer_id": site.customer_id},
                       headers=signed_in(client, "consult_b"))
    assert other.status_code == 404
    reception = client.get("/api/v1/follow-ups", params={"customer_id": site.customer_id},
                           headers=signed_in(client, "reception_a"))
    assert reception.status_code == 403


# ---- edge sync ------------------------------------------------------------------------


def test_a_synced_follow_up_is_applied_and_audited_with_its_run(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    payload = follow_up_event(site, world["consult_a"])
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), FOLLOWUP_RECORDED, payload)])
    assert result.acked_seq == 2 and result.rejected == []
    [row] = rows(db)
    assert row.id == payload["follow_up_id"] and row.recorded_via == "edge"
    assert row.visit_id == site.visit_id and row.customer_id == site.customer_id
    assert row.event_seq == 2 and row.effective is True
    audit = audit_rows(db, "sync.events_applied")[-1]
    assert audit.detail["follow_ups"] == [row.id] and audit.result == "success"


def test_a_follow_up_already_stored_by_the_route_is_merged(
    client: TestClient, db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    data = body(site)
    assert post(client, signed_in(client, "consult_a"), data).status_code == 201
    env = envelope(site.key, "site-a", site.next_seq(), FOLLOWUP_RECORDED,
                   follow_up_event(site, world["consult_a"], data["id"]))
    result = apply(db, settings, "site-a", [env])
    assert result.acked_seq == 2 and result.rejected == []
    [row] = rows(db)
    assert row.recorded_via == "cloud"
    event = db.exec(select(SyncEvent).where(SyncEvent.seq == 2)).one()
    assert event.outcome == "merged" and event.detail == {"follow_up_id": data["id"]}
    # And the route after the sync returns that same row.
    again = post(client, signed_in(client, "consult_a"), data)
    assert again.status_code == 200 and len(rows(db)) == 1


def test_a_visit_and_its_follow_up_in_one_run(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    visit_id = str(uuid.uuid4())
    envs = [
        envelope(site.key, "site-a", site.next_seq(), VISIT_REGISTERED, {
            "visit_id": visit_id, "project_id": site.project_id, "phone": "13700000007",
            "party_size": 1, "consultant_id": world["consult_a"]}),
        envelope(site.key, "site-a", site.next_seq(), FOLLOWUP_RECORDED, follow_up_event(
            site, world["consult_a"], visit_id=visit_id, phone="13700000007",
            kind="visit", reached=False)),
        # The same follow-up id twice in a run: the second is merged.
    ]
    duplicate = envs[1].payload
    envs.append(envelope(site.key, "site-a", site.next_seq(), FOLLOWUP_RECORDED, duplicate))
    result = apply(db, settings, "site-a", envs)
    assert result.acked_seq == 4 and result.rejected == []
    [row] = rows(db)
    visit = db.get(Visit, visit_id)
    assert visit is not None and row.visit_id == visit_id
    assert row.customer_id == visit.customer_id and row.effective is True  # a visit counts
    outcomes = [e.outcome for e in db.exec(select(SyncEvent).order_by(col(SyncEvent.seq))).all()]
    assert outcomes[-2:] == ["applied", "merged"]


def test_bad_follow_up_events_consume_their_seq_with_a_reason(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    a, b = world["site-a"], world["site-b"]
    consultant = world["consult_a"]
    taken = follow_up_event(a, consultant)
    apply(db, settings, "site-a", [envelope(a.key, "site-a", a.next_seq(), FOLLOWUP_RECORDED,
                                            taken)])
    cases = [
        (follow_up_event(a, consultant, visit_id=b.visit_id), "visit_not_in_site"),
        (follow_up_event(a, consultant, visit_id=None, phone="13612345678"),
         "customer_not_found"),
        (follow_up_event(a, 999_999), "unknown_consultant"),
        (follow_up_event(a, world["consult_a2"], taken["follow_up_id"]), "follow_up_id_reused"),
        (follow_up_event(a, consultant, project_id=b.project_id), "project_not_in_site"),
        (follow_up_event(a, consultant, kind="sms"), "invalid_payload"),
        (follow_up_event(a, consultant, note="长" * 501), "invalid_payload"),
        (follow_up_event(a, consultant, note=" "), "follow_up_content_required"),
        (follow_up_event(a, consultant, note="", kind="visit", reached=False),
         "follow_up_content_required"),
    ]
    envs = [envelope(a.key, "site-a", a.next_seq(), FOLLOWUP_RECORDED, p) for p, _ in cases]
    result = apply(db, settings, "site-a", envs)
    assert result.acked_seq == a.seq  # consumed: the stream does not stall
    assert {r.seq: r.reason for r in result.rejected} == {
        env.seq: reason for env, (_, reason) in zip(envs, cases, strict=True)}
    assert len(rows(db)) == 1


def test_a_visit_the_cloud_does_not_know_is_dropped_not_the_follow_up(
    db: Session, settings: CloudSettings, world: dict[str, Any]
) -> None:
    site = world["site-a"]
    ghost = str(uuid.uuid4())
    payload = follow_up_event(site, world["consult_a"], visit_id=ghost)
    result = apply(db, settings, "site-a", [
        envelope(site.key, "site-a", site.next_seq(), FOLLOWUP_RECORDED, payload)])
    assert result.rejected == []
    [row] = rows(db)
    assert row.visit_id is None and row.customer_id == site.customer_id
    event = db.exec(select(SyncEvent).where(SyncEvent.seq == 2)).one()
    assert event.detail["dropped_visit_id"] == ghost


# ---- edge tokens ----------------------------------------------------------------------


def test_a_consultant_gets_an_edge_token_signed_with_the_site_key(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    headers = signed_in(client, "consult_a")
    response = client.post("/api/v1/auth/edge-token", headers=headers)
    assert response.status_code == 200, response.text
    [item] = response.json()["tokens"]
    assert item["site_id"] == "site-a"
    claims = edge_token.verify(world["site-a"].key, item["token"], site_id="site-a")
    assert claims.user_id == world["consult_a"] and claims.roles == ("consultant",)
    assert timedelta(hours=11) < claims.expires_at - utcnow() <= timedelta(hours=12)
    with pytest.raises(edge_token.EdgeTokenInvalid):  # worthless at another site
        edge_token.verify(world["site-b"].key, item["token"], site_id="site-b")
    just_a = client.post("/api/v1/auth/edge-token", params={"site_id": "site-a"},
                         headers=headers)
    assert [t["site_id"] for t in just_a.json()["tokens"]] == ["site-a"]
    assert audit_rows(db, "auth.edge_token")[0].detail == {"site_ids": ["site-a"]}


def test_no_edge_token_outside_the_users_sites(client: TestClient, world: dict[str, Any],
                                               db: Session) -> None:
    other = client.post("/api/v1/auth/edge-token", params={"site_id": "site-b"},
                        headers=signed_in(client, "consult_a"))
    assert other.status_code == 403 and problem(other)["code"] == "no_site_scope"
    hq = client.post("/api/v1/auth/edge-token", headers=signed_in(client, "hqadmin"))
    assert hq.status_code == 403
    anonymous = client.post("/api/v1/auth/edge-token")
    assert anonymous.status_code == 401
    make_user(db, "newbie", roles=["consultant"], site_ids=["site-a"],
              must_change_password=True)
    pending = client.post("/api/v1/auth/edge-token", headers=signed_in(client, "newbie"))
    assert pending.status_code == 403
    assert problem(pending)["code"] == "password_change_required"


# ---- schema and browser access ---------------------------------------------------------


def test_the_0004_migration_builds_the_follow_up_table_the_model_describes(
    engine: Engine,
) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, SQLModel.metadata)
    assert [d for d in diffs if "follow_up" in repr(d)] == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FollowUp)).scalar_one() == 0


def test_the_pwa_origin_may_call_the_api_from_a_browser(settings: CloudSettings) -> None:
    edge = "https://edge-a.example.cn"
    configured = make_settings(settings.database_url, cors_origins=[edge])
    with TestClient(create_app(configured)) as client:
        preflight = client.options("/api/v1/follow-ups", headers={
            "Origin": edge, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == edge
        assert "access-control-allow-credentials" not in preflight.headers
        stranger = client.options("/api/v1/follow-ups", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert stranger.headers.get("access-control-allow-origin") is None
    with TestClient(create_app(settings)) as plain:  # not configured: no CORS at all
        response = plain.get("/healthz", headers={"Origin": edge})
        assert "access-control-allow-origin" not in response.headers
