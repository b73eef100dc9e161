"""The authorisation matrix: every route of the cloud × every role × the caller's own
site and another site, run against the real application and database.

The rules below are the policy, written by hand and reviewed as such — not derived from
ROLE_PERMISSIONS, so widening a role's rights fails here too. The route list comes from
the application's route table: a new route without a rule fails the suite.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from cloud.channel import risk_cases
from cloud.channel.listing_models import Campaign, CampaignProject
from cloud.channel.models import QrScan, Referral
from cloud.channel.prospecting_models import (
    ProspectingAssignee,
    ProspectingTask,
    ProspectingTaskProject,
)
from cloud.channel.saved_query_models import SavedQuery
from cloud.identity.models import User
from cloud.main import create_app
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared.reception_events import ROTA_CHANGED
from shared.timeutil import shanghai_date, utcnow
from tests.cloud import make_user, signed_in
from tests.cloud.appeal_world import PNG
from tests.cloud.authorization_requests import (
    REQUESTS,
    SAVED_DELETE,
    SAVED_RUN,
    Ctx,
    Upload,
)
from tests.cloud.authorization_rules import (
    EMPTY,
    NOT_FOUND,
    OTHER,
    OWN,
    ROLES,
    RULES,
    Rule,
)
from tests.cloud.channel_world import add_agency, add_broker, attach_broker, refer
from tests.cloud.deal_world import matrix_deals
from tests.cloud.inventory_world import matrix_objects
from tests.cloud.ownership_world import add_ownership_world
from tests.cloud.sales_world import PHONE_A, apply, build_world, envelope
from tests.cloud.test_route_permissions import ANONYMOUS_ROUTES, endpoints

# Routes that end the caller's session or change its password run on a session of their own.
FRESH_SESSION = frozenset({("POST", "/api/v1/auth/logout")})


def guarded_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {(ep.method, ep.path) for ep in endpoints(app)
            if ep.dependant is not None and (ep.method, ep.path) not in ANONYMOUS_ROUTES}


def test_every_route_has_a_rule(settings: CloudSettings) -> None:
    routes = guarded_routes(create_app(settings))

    assert sorted(routes - RULES.keys()) == [], "routes without a rule in the matrix"
    assert sorted(RULES.keys() - routes) == [], "rules for routes that are gone"
    assert RULES.keys() == REQUESTS.keys()


def test_a_new_route_without_a_rule_is_noticed(settings: CloudSettings) -> None:
    app = create_app(settings)

    @app.get("/api/v1/reports/commission")
    def report() -> dict[str, str]:
        return {}

    assert guarded_routes(app) - RULES.keys() == {("GET", "/api/v1/reports/commission")}


Matrix = tuple[TestClient, Ctx, dict[str, str]]


@pytest.fixture
def matrix(settings: CloudSettings, db: Session) -> Iterator[Matrix]:
    # Every login of the walk comes from one test address: lift only the per-source limit.
    roomy = settings.model_copy(update={"login_ip_limit": 10_000})
    world = build_world(db, settings)
    add_ownership_world(db, settings, world)
    _rota_history(db, settings, world)
    for role in ROLES:
        user = make_user(db, f"m.{role}", roles=[role], site_ids=["site-a"])
        # Saved 多维查询 of each caller: the one run, and one per side to delete.
        db.add_all(SavedQuery(owner_id=user.id or 0, name=name, definition={
            "dimensions": ["agency"], "measures": ["referrals"]})
            for name in (SAVED_RUN, SAVED_DELETE + OWN, SAVED_DELETE + OTHER))
    db.commit()
    targets = {OWN: make_user(db, "target.a", roles=["consultant"], site_ids=["site-a"]).id,
               OTHER: make_user(db, "target.b", roles=["consultant"], site_ids=["site-b"]).id}
    with TestClient(create_app(roomy)) as client:
        tokens = {role: signed_in(client, f"m.{role}") for role in ROLES}
        # The consultant of site A who owns its customer, so "contact" has a case to allow.
        tokens["consultant"] = signed_in(client, "consult_a")
        opened = client.post("/api/v1/privacy/requests", headers=tokens["privacy_officer"],
                             json={"kind": "access", "phone": PHONE_A, "channel": "onsite"})
        assert opened.status_code == 201, opened.text
        channel = _channel_world(db, settings, client, world, tokens["broker"])
        yield client, Ctx(world, {k: v or 0 for k, v in targets.items()},
                          opened.json()["id"], channel, matrix_objects(db, world),
                          matrix_deals(db, settings, world)), {
            role: h["Authorization"] for role, h in tokens.items()}


def _rota_history(db: Session, settings: CloudSettings, world: dict[str, Any]) -> None:
    """A check-in at each site, so the rota history of the own site has a row to show."""
    for site_id in ("site-a", "site-b"):
        site = world[site_id]
        consultant = world["consult_a" if site_id == "site-a" else "consult_b"]
        apply(db, settings, site_id, [envelope(site.key, site_id, site.next_seq(),
                                               ROTA_CHANGED, {
            "rota_event_id": str(uuid.uuid4()), "project_id": site.project_id,
            "duty_date": str(shanghai_date(utcnow())),
            "occurred_at": utcnow().isoformat(), "consultant_id": consultant,
            "action": "check_in", "actor": "kiosk:10.0.0.5", "reason": "上岗"})])


def _channel_world(db: Session, settings: CloudSettings, client: TestClient,
                   world: dict[str, Any], broker_token: dict[str, str]
                   ) -> dict[str, dict[str, int]]:
    """m.broker and m.agency_admin in agency A, x.broker in agency B; a referral each, with
    an appeal, its evidence and a risk case; a campaign at each site's project."""
    creator = world["hqadmin"]
    own, other = add_agency(db, "矩阵渠道A", created_by=creator), add_agency(
        db, "矩阵渠道B", created_by=creator)
    broker = attach_broker(db, settings, _user_id(db, "m.broker"), agency=own)
    attach_broker(db, settings, _user_id(db, "m.agency_admin"), agency=own)
    add_broker(db, settings, "x.broker", agency=other)
    ids: dict[str, dict[str, int]] = {}
    for side, headers, site in ((OWN, broker_token, "site-a"),
                                (OTHER, signed_in(client, "x.broker"), "site-b")):
        answer = refer(client, headers, world[site].project_id, "13655551111")
        assert answer.status_code == 201, answer.text
        referral_id = answer.json()["id"]
        filed = client.post("/api/v1/channel/appeals", headers=headers, json={
            "referral_id": referral_id, "kind": "deal", "reason": "矩阵申诉"})
        assert filed.status_code == 201, filed.text
        appeal_id = filed.json()["id"]
        kept = client.post(f"/api/v1/channel/appeals/{appeal_id}/evidence", headers=headers,
                           files={"file": ("矩阵.png", PNG)})
        assert kept.status_code == 201, kept.text
        row = db.get(Referral, referral_id)
        assert row is not None
        case = risk_cases.record_duplicate_qr(db, referral=row, scans=[{"at": "1"}, {"at": "2"}])
        assert case is not None and case.id is not None
        # 带看记录: a refused scan, and a registration that carried the edge's answer.
        db.add(QrScan(event_id=str(uuid.uuid4()), site_id=site,
                      project_id=world[site].project_id, referral_id=referral_id,
                      broker_id=row.broker_id, outcome="refused", reason_code="qr_expired",
                      scanned_at=utcnow()))
        visit = db.get(Visit, world[site].visit_id)
        assert visit is not None
        visit.edge_attribution = {"first_visit": True, "owner_kind": "none"}
        db.add(visit)
        db.commit()
        ids[side] = {"referral": referral_id, "appeal": appeal_id,
                     "evidence": kept.json()["id"], "case": case.id,
                     "campaign": _add_campaign(db, creator, world[site].project_id),
                     "task": _add_task(db, creator, world[site].project_id,
                                       (own if side == OWN else other).id or 0),
                     "lead": _add_lead(client, headers, world[site].project_id)}
    return {side: {"agency": (own if side == OWN else other).id or 0, "broker": broker.id or 0,
                   **ids[side]} for side in (OWN, OTHER)}


def _add_lead(client: TestClient, headers: dict[str, str], project_id: int) -> int:
    """A lead left on the broker's share of the project (through the public page)."""
    shared = client.post("/api/v1/channel/broker/shares", headers=headers,
                         json={"kind": "project", "project_id": project_id})
    assert shared.status_code == 201, shared.text
    left = client.post(f"/api/v1/channel/public/shares/{shared.json()['token']}/leads", json={
        "visitor_id": str(uuid.uuid4()), "name": "矩阵线索", "phone": "13655552222",
        "consent": True})
    assert left.status_code == 201, left.text
    found = client.get("/api/v1/channel/broker/leads", headers=headers).json()
    lead_id: int = found[0]["id"]
    return lead_id


def _add_campaign(db: Session, creator: int, project_id: int) -> int:
    now = utcnow()
    campaign = Campaign(title="矩阵活动", starts_at=now, ends_at=now + timedelta(days=7),
                        created_by=creator)
    db.add(campaign)
    db.flush()
    assert campaign.id is not None
    db.add(CampaignProject(campaign_id=campaign.id, project_id=project_id))
    db.commit()
    return campaign.id


def _add_task(db: Session, creator: int, project_id: int, agency_id: int) -> int:
    """A published prospecting task on the project for the agency (the broker's, on the
    own side)."""
    now = utcnow()
    task = ProspectingTask(title="矩阵任务", metric="referrals", assign_mode="agencies",
                           target=5, starts_at=now - timedelta(days=1),
                           ends_at=now + timedelta(days=7), status="published",
                           created_by=creator)
    db.add(task)
    db.flush()
    assert task.id is not None
    db.add(ProspectingTaskProject(task_id=task.id, project_id=project_id))
    db.add(ProspectingAssignee(task_id=task.id, agency_id=agency_id, target=5))
    db.commit()
    return task.id


def _user_id(db: Session, username: str) -> int:
    user = db.exec(select(User).where(User.username == username)).one()
    assert user.id is not None
    return user.id


def _expected(rule: Rule, role: str, side: str) -> set[str]:
    if role not in rule.roles:
        return {"refused"}
    if side == OTHER and rule.other != "same":
        return {rule.other}
    # A list filtered to the caller's own site must show its data, or "empty" for the
    # other site would prove nothing.
    return {"allowed"} if rule.other == EMPTY else {"allowed", EMPTY}


def _outcome(response: httpx.Response) -> str:
    status = response.status_code
    if status == 403:
        return "refused"
    if status == 404:
        return NOT_FOUND
    if status in (401, 405) or status >= 500:
        return f"broken {status}"
    return EMPTY if status < 300 and _is_empty(response) else "allowed"


def _is_empty(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/vnd.openxmlformats"):
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        assert sheet is not None
        return sum(1 for _ in sheet.iter_rows()) <= 1  # the header row only
    if not kind.startswith("application/json") or not response.content:
        return False
    body = response.json()
    return body == [] or (isinstance(body, dict) and body.get("items") == [])


def test_every_route_role_and_site_answers_by_the_rules(
    matrix: Matrix
) -> None:
    client, ctx, tokens = matrix
    wrong: list[str] = []
    for (method, path), role, side in itertools.product(sorted(RULES), ROLES, (OWN, OTHER)):
        url, query, body = REQUESTS[(method, path)](ctx, side)
        token = tokens[role]
        if (method, path) in FRESH_SESSION:
            username = "consult_a" if role == "consultant" else f"m.{role}"
            token = signed_in(client, username)["Authorization"]
        headers = {"Authorization": token}
        if isinstance(body, dict) and "visit_id" in body:  # a follow-up: its id is the key
            headers["Idempotency-Key"] = body["id"]
        if isinstance(body, Upload):
            response = client.request(method, url, params=query, headers=headers,
                                      files={"file": (body.filename, body.content)})
        else:
            response = client.request(method, url, params=query, json=body, headers=headers)
        expected = _expected(RULES[(method, path)], role, side)
        got = _outcome(response)
        if got not in expected:
            wrong.append(f"{method} {path} as {role} ({side} site): expected {expected}, "
                         f"got {response.status_code} {response.text[:160]}")
    assert wrong == []


def test_the_walk_would_see_a_leak(matrix: Matrix) -> None:
    """The outcome check is not blind: a consultant reading another site's customer would
    be caught as "allowed" where the rule says "not found"."""
    client, ctx, tokens = matrix
    rule = RULES[("GET", "/api/v1/customers/{customer_id}")]
    assert _expected(rule, "consultant", OTHER) == {NOT_FOUND}
    own = client.get(f"/api/v1/customers/{ctx.sales(OWN).customer_id}",
                     headers={"Authorization": tokens["consultant"]})
    assert _outcome(own) == "allowed"
    assert _outcome(own) not in _expected(rule, "consultant", OTHER)
    # An unfiltered visit list is not "empty" for the other site: the filter is what counts.
    visits = client.get("/api/v1/visits", params={"site_id": "site-a"},
                        headers={"Authorization": tokens["consultant"]})
    assert _outcome(visits) == "allowed"
