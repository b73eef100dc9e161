"""The authorisation matrix's requests: for each route, the URL, query and body a call
from the caller's own site or the other site sends (tests/cloud/
test_authorization_matrix.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.timeutil import shanghai_date, utcnow
from tests.cloud.appeal_world import PNG
from tests.cloud.authorization_rules import OWN
from tests.cloud.inventory_world import sheet, tower
from tests.cloud.sales_world import PHONE_A, PHONE_B, SiteWorld


@dataclass
class Ctx:
    """What the requests name: the caller's own site is site-a, the other site-b."""

    world: dict[str, Any]
    targets: dict[str, int]  # a business user at each site, for the user routes
    privacy_request: int  # an open access request (a call of the wrong kind answers 409)
    # Channel objects by side: agency, broker (of the own agency on both sides: see the
    # rules) and a referral — m.broker's at site A's project, another agency's at site B's.
    channel: dict[str, dict[str, int]]
    # Inventory objects by side (tests/cloud/inventory_world.matrix_objects).
    inventory: dict[str, dict[str, int]]
    # Deal documents, changes and calls by side (tests/cloud/deal_world.matrix_deals).
    deals: dict[str, dict[str, int]]

    def site(self, side: str) -> str:
        return "site-a" if side == OWN else "site-b"

    def sales(self, side: str) -> SiteWorld:
        found: SiteWorld = self.world[self.site(side)]
        return found

    def ownership(self, side: str) -> dict[str, int]:
        """The pool customer, pending pick-up and 撞单 of tests/cloud/ownership_world.py."""
        found: dict[str, int] = self.world["ownership"][self.site(side)]
        return found


@dataclass(frozen=True)
class Upload:
    """A multipart body (`file`) instead of JSON."""

    filename: str
    content: bytes


Request = tuple[str, dict[str, Any] | None, Any]  # url, query, json body or Upload
Builder = Callable[[Ctx, str], Request]


def _follow_up(ctx: Ctx, side: str) -> Request:
    body = {"id": str(uuid.uuid4()), "visit_id": ctx.sales(side).visit_id, "kind": "call",
            "reached": True, "note": "矩阵测试",
            "occurred_at": (utcnow() - timedelta(minutes=1)).isoformat()}
    return "/api/v1/follow-ups", None, body


def _campaign_body(project_id: int) -> dict[str, Any]:
    now = utcnow()
    return {"title": "矩阵活动", "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(), "project_ids": [project_id]}


def _task_body(project_id: int) -> dict[str, Any]:
    today = shanghai_date(utcnow())
    return {"title": "矩阵任务", "metric": "referrals", "project_ids": [project_id],
            "start_date": today.isoformat(), "end_date": today.isoformat(), "target": 5,
            "assign_mode": "cooperating"}


SAVED_RUN, SAVED_DELETE = "矩阵", "矩阵删除"  # saved queries every matrix user holds


def _analytics_query(project_id: int) -> dict[str, Any]:
    return {"dimensions": ["agency"], "measures": ["referrals"],
            "filters": {"project_ids": [project_id]}}


def _sales_analysis(name: str) -> Builder:
    def build(c: Ctx, s: str) -> Request:
        return f"/api/v1/sales/analysis/{name}", {"project_id": c.sales(s).project_id}, None
    return build


REQUESTS: dict[tuple[str, str], Builder] = {
    ("POST", "/api/v1/auth/logout"): lambda c, s: ("/api/v1/auth/logout", None, None),
    ("POST", "/api/v1/auth/password"): lambda c, s: (
        "/api/v1/auth/password", None,
        {"old_password": "Not#Mine-2026", "new_password": "Matrix#Pass-2027"}),
    ("POST", "/api/v1/auth/edge-token"): lambda c, s: (
        "/api/v1/auth/edge-token", {"site_id": c.site(s)}, None),
    ("GET", "/api/v1/auth/me"): lambda c, s: ("/api/v1/auth/me", None, None),
    ("GET", "/api/v1/users"): lambda c, s: ("/api/v1/users", None, None),
    ("POST", "/api/v1/users"): lambda c, s: (
        "/api/v1/users", None, {"username": f"m.{uuid.uuid4().hex[:10]}", "display_name": "新"}),
    ("GET", "/api/v1/users/{user_id}"): lambda c, s: (
        f"/api/v1/users/{c.targets[s]}", None, None),
    ("PATCH", "/api/v1/users/{user_id}"): lambda c, s: (
        f"/api/v1/users/{c.targets[s]}", None, {"display_name": "改名"}),
    ("POST", "/api/v1/users/{user_id}/password-reset"): lambda c, s: (
        f"/api/v1/users/{c.targets[s]}/password-reset", None, {}),
    ("PUT", "/api/v1/users/{user_id}/roles"): lambda c, s: (
        f"/api/v1/users/{c.targets[s]}/roles", None, {"roles": ["receptionist"]}),
    ("PUT", "/api/v1/users/{user_id}/scopes"): lambda c, s: (
        f"/api/v1/users/{c.targets[s]}/scopes", None, {"site_ids": [c.site(s)]}),
    ("GET", "/api/v1/roles"): lambda c, s: ("/api/v1/roles", None, None),
    ("GET", "/api/v1/audit/logs"): lambda c, s: ("/api/v1/audit/logs", None, None),
    ("GET", "/api/v1/audit/logs/export"): lambda c, s: ("/api/v1/audit/logs/export", None, None),
    ("GET", "/api/v1/sites"): lambda c, s: ("/api/v1/sites", None, None),
    ("POST", "/api/v1/sites"): lambda c, s: (
        "/api/v1/sites", None, {"id": f"m-{uuid.uuid4().hex[:8]}", "name": "矩阵案场"}),
    ("PUT", "/api/v1/sites/{site_id}/position"): lambda c, s: (
        f"/api/v1/sites/{c.site(s)}/position", None,
        {"lat": 31.2304, "lng": 121.4737, "datum": "wgs84", "address": "矩阵路 1 号"}),
    ("GET", "/api/v1/projects"): lambda c, s: ("/api/v1/projects", {"site_id": c.site(s)}, None),
    ("POST", "/api/v1/projects"): lambda c, s: (
        "/api/v1/projects", None, {"site_id": c.site(s), "name": "矩阵项目"}),
    ("GET", "/api/v1/visits"): lambda c, s: ("/api/v1/visits", {"site_id": c.site(s)}, None),
    ("GET", "/api/v1/projects/{project_id}/reception-settings"): lambda c, s: (
        f"/api/v1/projects/{c.sales(s).project_id}/reception-settings", None, None),
    ("PUT", "/api/v1/projects/{project_id}/reception-settings"): lambda c, s: (
        f"/api/v1/projects/{c.sales(s).project_id}/reception-settings", None,
        {"order_mode": "fewest_new", "claim_days": 3}),
    ("GET", "/api/v1/reception/rota-events"): lambda c, s: (
        "/api/v1/reception/rota-events", {"site_id": c.site(s)}, None),
    ("GET", "/api/v1/reception/visits/{visit_id}/profile"): lambda c, s: (
        f"/api/v1/reception/visits/{c.sales(s).visit_id}/profile", None, None),
    ("GET", "/api/v1/visits/export"): lambda c, s: (
        "/api/v1/visits/export", {"site_id": c.site(s)}, None),
    ("GET", "/api/v1/consultants"): lambda c, s: (
        "/api/v1/consultants", {"site_id": c.site(s)}, None),
    ("GET", "/api/v1/customers"): lambda c, s: (
        "/api/v1/customers", {"phone": PHONE_A if s == OWN else PHONE_B,
                              "project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/customers/{customer_id}"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}", None, None),
    ("GET", "/api/v1/customers/{customer_id}/timeline"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/timeline", None, None),
    ("POST", "/api/v1/customers/{customer_id}/unmask"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/unmask", None, {"reason": "矩阵测试"}),
    ("POST", "/api/v1/customers/{customer_id}/contact"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/contact", None, {"reason": "矩阵测试"}),
    ("POST", "/api/v1/follow-ups"): _follow_up,
    ("GET", "/api/v1/follow-ups"): lambda c, s: (
        "/api/v1/follow-ups", {"customer_id": c.sales(s).customer_id}, None),
    ("GET", "/api/v1/ownership/customers"): lambda c, s: (
        "/api/v1/ownership/customers", {"category": "public", "site_id": c.site(s)}, None),
    ("GET", "/api/v1/customers/{customer_id}/ownership"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/ownership", None, None),
    # The ownership actions answer 409 to what they cannot do (a state the caller did not
    # see, a stage the table refuses) and change nothing the rest of the walk relies on.
    ("POST", "/api/v1/customers/{customer_id}/assign"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/assign", None,
        {"to_user_id": c.world["consult_a2"], "expected_owner_id": None,
         "expected_ownership": "invalid", "reason": "矩阵测试"}),
    ("POST", "/api/v1/customers/{customer_id}/invalidate"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/invalidate", None,
        {"expected_ownership": "public", "reason": "矩阵测试"}),
    ("POST", "/api/v1/customers/{customer_id}/stage"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/stage", None,
        {"to": "signed", "reason": "矩阵测试"}),
    ("POST", "/api/v1/customers/{customer_id}/pickup-requests"): lambda c, s: (
        f"/api/v1/customers/{c.ownership(s)['pool']}/pickup-requests", None, {}),
    ("GET", "/api/v1/pool/pickup-requests"): lambda c, s: (
        "/api/v1/pool/pickup-requests", {"project_id": c.sales(s).project_id}, None),
    ("POST", "/api/v1/pool/pickup-requests/{request_id}/decision"): lambda c, s: (
        f"/api/v1/pool/pickup-requests/{c.ownership(s)['pickup']}/decision", None,
        {"approve": False, "note": "矩阵测试"}),
    ("GET", "/api/v1/ownership/collisions"): lambda c, s: (
        "/api/v1/ownership/collisions", {"project_id": c.sales(s).project_id}, None),
    ("POST", "/api/v1/ownership/collisions/{collision_id}/resolve"): lambda c, s: (
        f"/api/v1/ownership/collisions/{c.ownership(s)['collision']}/resolve", None, None),
    ("GET", "/api/v1/projects/{project_id}/ownership-settings"): lambda c, s: (
        f"/api/v1/projects/{c.sales(s).project_id}/ownership-settings", None, None),
    ("PUT", "/api/v1/projects/{project_id}/ownership-settings"): lambda c, s: (
        f"/api/v1/projects/{c.sales(s).project_id}/ownership-settings", None,
        {"protection_days": 30, "follow_up_days": 7, "warn_days": 2, "lapse_action": "pool",
         "reclaim_cooldown_days": None}),
    ("GET", "/api/v1/sync/sites"): lambda c, s: ("/api/v1/sync/sites", None, None),
    ("GET", "/api/v1/sync/rejections"): lambda c, s: ("/api/v1/sync/rejections", None, None),
    ("GET", "/api/v1/cameras"): lambda c, s: ("/api/v1/cameras", {"site_id": c.site(s)}, None),
    ("GET", "/api/v1/faces/sites/{site_id}"): lambda c, s: (
        f"/api/v1/faces/sites/{c.site(s)}", None, None),
    ("PUT", "/api/v1/faces/sites/{site_id}"): lambda c, s: (
        f"/api/v1/faces/sites/{c.site(s)}", None, {"enabled": False}),
    ("GET", "/api/v1/faces/count"): lambda c, s: ("/api/v1/faces/count", None, None),
    ("GET", "/api/v1/faces/customers/{customer_id}"): lambda c, s: (
        f"/api/v1/faces/customers/{c.sales(s).customer_id}", None, None),
    ("GET", "/api/v1/faces/erasures/{request_id}"): lambda c, s: (
        f"/api/v1/faces/erasures/{c.privacy_request}", None, None),
    ("GET", "/api/v1/privacy/requests"): lambda c, s: ("/api/v1/privacy/requests", None, None),
    ("POST", "/api/v1/privacy/requests"): lambda c, s: (
        "/api/v1/privacy/requests", None, {"kind": "access", "phone": PHONE_A,
                                           "channel": "phone"}),
    ("GET", "/api/v1/privacy/requests/{request_id}"): lambda c, s: (
        f"/api/v1/privacy/requests/{c.privacy_request}", None, None),
    ("POST", "/api/v1/privacy/requests/{request_id}/subject-data"): lambda c, s: (
        f"/api/v1/privacy/requests/{c.privacy_request}/subject-data", None, None),
    ("POST", "/api/v1/privacy/requests/{request_id}/correct"): lambda c, s: (
        f"/api/v1/privacy/requests/{c.privacy_request}/correct", None, {"name": "陈先生"}),
    ("POST", "/api/v1/privacy/requests/{request_id}/erase"): lambda c, s: (
        f"/api/v1/privacy/requests/{c.privacy_request}/erase", None, None),
    ("POST", "/api/v1/privacy/requests/{request_id}/complete"): lambda c, s: (
        f"/api/v1/privacy/requests/{c.privacy_request}/complete", None,
        {"resolution": "已当面提供"}),
    ("POST", "/api/v1/privacy/requests/{request_id}/refuse"): lambda c, s: (
        f"/api/v1/privacy/requests/{c.privacy_request}/refuse", None,
        {"code": "unfounded", "reason": "矩阵测试"}),
    ("POST", "/api/v1/channel/agencies"): lambda c, s: (
        "/api/v1/channel/agencies", None, {"name": "矩阵渠道"}),
    ("GET", "/api/v1/channel/agencies"): lambda c, s: ("/api/v1/channel/agencies", None, None),
    ("PATCH", "/api/v1/channel/agencies/{agency_id}"): lambda c, s: (
        f"/api/v1/channel/agencies/{c.channel[s]['agency']}", None, {"rating": 4}),
    ("POST", "/api/v1/channel/brokers/join"): lambda c, s: (
        "/api/v1/channel/brokers/join", None, {"phone": "13700000009"}),
    ("GET", "/api/v1/channel/brokers"): lambda c, s: ("/api/v1/channel/brokers", None, None),
    ("PATCH", "/api/v1/channel/brokers/{broker_id}"): lambda c, s: (
        f"/api/v1/channel/brokers/{c.channel[s]['broker']}", None, {"rating": 3}),
    ("GET", "/api/v1/channel/projects/{project_id}/rules"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/rules", None, None),
    ("POST", "/api/v1/channel/projects/{project_id}/rules"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/rules", None, {"rules": {}}),
    ("GET", "/api/v1/channel/projects/{project_id}/cooperation"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/cooperation", None, None),
    ("PUT", "/api/v1/channel/projects/{project_id}/cooperation"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/cooperation", None,
        {"agency_ids": []}),
    ("GET", "/api/v1/channel/projects/{project_id}/attribution"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/attribution",
        {"referral_id": c.channel[s]["referral"]}, None),
    ("GET", "/api/v1/channel/projects/{project_id}/attribution/export"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/attribution/export",
        {"referral_id": c.channel[s]["referral"]}, None),
    ("POST", "/api/v1/channel/projects/{project_id}/rules/what-if"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/rules/what-if", None,
        {"rules": {}, "days": 30}),
    ("POST", "/api/v1/channel/referrals"): lambda c, s: (
        "/api/v1/channel/referrals", None,
        {"project_id": c.sales(s).project_id, "phone": "13655550000", "name": "矩阵客户"}),
    ("GET", "/api/v1/channel/referrals"): lambda c, s: (
        "/api/v1/channel/referrals", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/referrals/{referral_id}"): lambda c, s: (
        f"/api/v1/channel/referrals/{c.channel[s]['referral']}", None, None),
    ("POST", "/api/v1/channel/referrals/{referral_id}/review"): lambda c, s: (
        f"/api/v1/channel/referrals/{c.channel[s]['referral']}/review", None,
        {"approved": True}),
    ("GET", "/api/v1/channel/invites/mine"): lambda c, s: (
        "/api/v1/channel/invites/mine", None, None),
    # No 公众号 here (503): a page of another site is refused past authorization (422).
    ("POST", "/api/v1/channel/wechat/js-config"): lambda c, s: (
        "/api/v1/channel/wechat/js-config", None, {"url": "https://other.example/h5/"}),
    ("GET", "/api/v1/channel/invites/mine/poster.png"): lambda c, s: (
        "/api/v1/channel/invites/mine/poster.png", None, None),
    ("GET", "/api/v1/channel/broker/me"): lambda c, s: ("/api/v1/channel/broker/me", None, None),
    ("GET", "/api/v1/channel/broker/projects"): lambda c, s: (
        "/api/v1/channel/broker/projects", None, None),
    ("GET", "/api/v1/channel/broker/customers"): lambda c, s: (
        "/api/v1/channel/broker/customers", None, None),
    ("GET", "/api/v1/channel/broker/campaigns"): lambda c, s: (
        "/api/v1/channel/broker/campaigns", None, None),
    ("GET", "/api/v1/channel/projects/{project_id}/profile"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/profile", None, None),
    ("PUT", "/api/v1/channel/projects/{project_id}/profile"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/profile", None,
        {"district": "矩阵区"}),
    ("GET", "/api/v1/channel/campaigns"): lambda c, s: (
        "/api/v1/channel/campaigns", {"project_id": c.sales(s).project_id}, None),
    ("POST", "/api/v1/channel/campaigns"): lambda c, s: (
        "/api/v1/channel/campaigns", None, _campaign_body(c.sales(s).project_id)),
    ("GET", "/api/v1/channel/campaigns/{campaign_id}"): lambda c, s: (
        f"/api/v1/channel/campaigns/{c.channel[s]['campaign']}", None, None),
    ("PATCH", "/api/v1/channel/campaigns/{campaign_id}"): lambda c, s: (
        f"/api/v1/channel/campaigns/{c.channel[s]['campaign']}", None, {"title": "矩阵活动"}),
    ("GET", "/api/v1/channel/prospecting-tasks"): lambda c, s: (
        "/api/v1/channel/prospecting-tasks", {"project_id": c.sales(s).project_id}, None),
    ("POST", "/api/v1/channel/prospecting-tasks"): lambda c, s: (
        "/api/v1/channel/prospecting-tasks", None, _task_body(c.sales(s).project_id)),
    ("GET", "/api/v1/channel/prospecting-tasks/{task_id}"): lambda c, s: (
        f"/api/v1/channel/prospecting-tasks/{c.channel[s]['task']}", None, None),
    ("PATCH", "/api/v1/channel/prospecting-tasks/{task_id}"): lambda c, s: (
        f"/api/v1/channel/prospecting-tasks/{c.channel[s]['task']}", None,
        {"title": "矩阵任务"}),
    ("GET", "/api/v1/channel/broker/tasks"): lambda c, s: (
        "/api/v1/channel/broker/tasks", None, None),
    ("GET", "/api/v1/channel/broker/tasks/{task_id}"): lambda c, s: (
        f"/api/v1/channel/broker/tasks/{c.channel[s]['task']}", None, None),
    ("POST", "/api/v1/channel/referrals/{referral_id}/qr"): lambda c, s: (
        f"/api/v1/channel/referrals/{c.channel[s]['referral']}/qr", None, {}),
    ("GET", "/api/v1/channel/appeals"): lambda c, s: (
        "/api/v1/channel/appeals", {"project_id": c.sales(s).project_id}, None),
    ("POST", "/api/v1/channel/appeals"): lambda c, s: (
        "/api/v1/channel/appeals", None,
        {"referral_id": c.channel[s]["referral"], "kind": "deal", "reason": "矩阵申诉"}),
    ("GET", "/api/v1/channel/appeals/{appeal_id}"): lambda c, s: (
        f"/api/v1/channel/appeals/{c.channel[s]['appeal']}", None, None),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/evidence"): lambda c, s: (
        f"/api/v1/channel/appeals/{c.channel[s]['appeal']}/evidence", None,
        Upload("矩阵.png", PNG)),
    ("GET", "/api/v1/channel/appeals/{appeal_id}/evidence/{evidence_id}"): lambda c, s: (
        f"/api/v1/channel/appeals/{c.channel[s]['appeal']}/evidence/"
        f"{c.channel[s]['evidence']}", None, None),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/withdraw"): lambda c, s: (
        f"/api/v1/channel/appeals/{c.channel[s]['appeal']}/withdraw", None, None),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/review"): lambda c, s: (
        f"/api/v1/channel/appeals/{c.channel[s]['appeal']}/review", None, None),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/decision"): lambda c, s: (
        f"/api/v1/channel/appeals/{c.channel[s]['appeal']}/decision", None,
        {"outcome": "rejected", "comment": "矩阵测试"}),
    ("GET", "/api/v1/channel/notifications/mine"): lambda c, s: (
        "/api/v1/channel/notifications/mine", None, None),
    ("GET", "/api/v1/channel/notifications/mine/unread"): lambda c, s: (
        "/api/v1/channel/notifications/mine/unread", None, None),
    ("POST", "/api/v1/channel/notifications/mine/read"): lambda c, s: (
        "/api/v1/channel/notifications/mine/read", None, {"all": True}),
    ("GET", "/api/v1/channel/risk/cases"): lambda c, s: (
        "/api/v1/channel/risk/cases", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/risk/cases/{case_id}"): lambda c, s: (
        f"/api/v1/channel/risk/cases/{c.channel[s]['case']}", None, None),
    ("POST", "/api/v1/channel/risk/cases/{case_id}/review"): lambda c, s: (
        f"/api/v1/channel/risk/cases/{c.channel[s]['case']}/review", None,
        {"outcome": "dismissed", "comment": "矩阵测试"}),
    ("GET", "/api/v1/channel/risk/dashboard"): lambda c, s: (
        "/api/v1/channel/risk/dashboard", None, None),
    ("POST", "/api/v1/channel/broker/shares"): lambda c, s: (
        "/api/v1/channel/broker/shares", None,
        {"kind": "project", "project_id": c.sales(s).project_id}),
    ("GET", "/api/v1/channel/broker/shares"): lambda c, s: (
        "/api/v1/channel/broker/shares", None, None),
    ("GET", "/api/v1/channel/broker/leads"): lambda c, s: (
        "/api/v1/channel/broker/leads", None, None),
    ("POST", "/api/v1/channel/broker/leads/{lead_id}/referral"): lambda c, s: (
        f"/api/v1/channel/broker/leads/{c.channel[s]['lead']}/referral", None, None),
    ("GET", "/api/v1/channel/leads"): lambda c, s: (
        "/api/v1/channel/leads", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/customers/{customer_id}/lead-timeline"): lambda c, s: (
        f"/api/v1/customers/{c.sales(s).customer_id}/lead-timeline", None, None),
    ("GET", "/api/v1/channel/guided-visits"): lambda c, s: (
        "/api/v1/channel/guided-visits", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/provisional-answers"): lambda c, s: (
        "/api/v1/channel/provisional-answers", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/projects/{project_id}/risk-policy"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/risk-policy", None, None),
    ("PUT", "/api/v1/channel/projects/{project_id}/risk-policy"): lambda c, s: (
        f"/api/v1/channel/projects/{c.sales(s).project_id}/risk-policy", None,
        {"appeal_deadline_days": 7}),
    **{("GET", f"/api/v1/sales/analysis/{name}"): _sales_analysis(name)
       for name in ("figures", "funnel", "sell-through", "intentions", "figures/export")},
    ("GET", "/api/v1/channel/analytics/performance"): lambda c, s: (
        "/api/v1/channel/analytics/performance", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/analytics/rankings"): lambda c, s: (
        "/api/v1/channel/analytics/rankings", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/analytics/fields"): lambda c, s: (
        "/api/v1/channel/analytics/fields", None, None),
    ("POST", "/api/v1/channel/analytics/query"): lambda c, s: (
        "/api/v1/channel/analytics/query", None, _analytics_query(c.sales(s).project_id)),
    ("GET", "/api/v1/channel/analytics/saved-queries"): lambda c, s: (
        "/api/v1/channel/analytics/saved-queries", None, None),
    ("PUT", "/api/v1/channel/analytics/saved-queries/{name}"): lambda c, s: (
        f"/api/v1/channel/analytics/saved-queries/保存{s}", None,
        {"dimensions": ["agency"], "measures": ["referrals"]}),
    ("POST", "/api/v1/channel/analytics/saved-queries/{name}/run"): lambda c, s: (
        f"/api/v1/channel/analytics/saved-queries/{SAVED_RUN}/run", None, None),
    ("DELETE", "/api/v1/channel/analytics/saved-queries/{name}"): lambda c, s: (
        f"/api/v1/channel/analytics/saved-queries/{SAVED_DELETE}{s}", None, None),
    ("POST", "/api/v1/channel/analytics/query/export"): lambda c, s: (
        "/api/v1/channel/analytics/query/export", None,
        _analytics_query(c.sales(s).project_id)),
    # 房源与销控.
    ("GET", "/api/v1/inventory/projects/{project_id}/grid"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/grid", None, None),
    ("POST", "/api/v1/inventory/projects/{project_id}/import"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/import", None,
        Upload("房源.xlsx", sheet(tower("矩阵楼", floors=1, per_floor=1)))),
    ("GET", "/api/v1/inventory/projects/{project_id}/batches"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/batches", None, None),
    ("POST", "/api/v1/inventory/projects/{project_id}/batches"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/batches", None,
        {"name": f"加推{uuid.uuid4().hex[:6]}", "kind": "add_on",
         "unit_ids": [c.inventory[s]["unreleased"]]}),
    ("POST", "/api/v1/inventory/units/{unit_id}/transitions"): lambda c, s: (
        f"/api/v1/inventory/units/{c.inventory[s]['move']}/transitions", None,
        {"action": "control", "reason": "矩阵销控"}),
    ("GET", "/api/v1/inventory/projects/{project_id}/log"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/log", None, None),
    ("POST", "/api/v1/inventory/units/{unit_id}/holds"): lambda c, s: (
        f"/api/v1/inventory/units/{c.inventory[s]['ask']}/holds", None,
        {"reason": "矩阵预留", "days": 1}),
    ("GET", "/api/v1/inventory/projects/{project_id}/holds"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/holds", None, None),
    ("POST", "/api/v1/inventory/holds/{hold_id}/approve"): lambda c, s: (
        f"/api/v1/inventory/holds/{c.inventory[s]['approve']}/approve", None, {}),
    ("POST", "/api/v1/inventory/holds/{hold_id}/reject"): lambda c, s: (
        f"/api/v1/inventory/holds/{c.inventory[s]['reject']}/reject", None,
        {"note": "矩阵驳回"}),
    ("POST", "/api/v1/inventory/holds/{hold_id}/cancel"): lambda c, s: (
        f"/api/v1/inventory/holds/{c.inventory[s]['cancel']}/cancel", None, None),
    ("GET", "/api/v1/inventory/projects/{project_id}/settings"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/settings", None, None),
    ("PUT", "/api/v1/inventory/projects/{project_id}/settings"): lambda c, s: (
        f"/api/v1/inventory/projects/{c.inventory[s]['project']}/settings", None,
        {"reserve_max_days": 3}),
    ("GET", "/api/v1/deals/projects/{project_id}/deals"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/deals", None, None),
    ("POST", "/api/v1/deals/projects/{project_id}/deals"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/deals", None, {
            "kind": "pledge", "customer_id": c.deals[s]["customer"], "buyer_name": "矩阵",
            "payment_method": "full", "amount_fen": 100}),
    ("GET", "/api/v1/deals/{deal_id}"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['change']}", None, None),
    ("PUT", "/api/v1/deals/{deal_id}/co-buyers"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['submit']}/co-buyers", None,
        {"co_buyers": [{"name": "矩阵", "phone": "13911112222"}]}),
    ("POST", "/api/v1/deals/{deal_id}/id-check"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['change']}/id-check", None,
        {"id_type": "passport", "id_number": "E12345678"}),
    ("POST", "/api/v1/deals/{deal_id}/submit"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['submit']}/submit", None, None),
    ("POST", "/api/v1/deals/{deal_id}/approve"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['approve']}/approve", None, {"note": "矩阵"}),
    ("POST", "/api/v1/deals/{deal_id}/reject"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['reject']}/reject", None, {"note": "矩阵驳回"}),
    ("POST", "/api/v1/deals/{deal_id}/cancel"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['cancel']}/cancel", None, {"reason": "矩阵取消"}),
    ("POST", "/api/v1/deals/{deal_id}/convert"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['convert']}/convert", None, {
            "unit_id": c.deals[s]["unit"], "payment_method": "full"}),
    ("POST", "/api/v1/deals/{deal_id}/void"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['void']}/void", None, {"reason": "逾期未签约"}),
    ("POST", "/api/v1/deals/{deal_id}/changes"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['change']}/changes", None, {
            "kind": "rename", "reason": "矩阵更名", "new_buyer_name": "赵六"}),
    ("POST", "/api/v1/deals/changes/{change_id}/apply"): lambda c, s: (
        f"/api/v1/deals/changes/{c.deals[s]['apply_change']}/apply", None, {"note": ""}),
    ("POST", "/api/v1/deals/changes/{change_id}/reject"): lambda c, s: (
        f"/api/v1/deals/changes/{c.deals[s]['reject_change']}/reject", None,
        {"note": "矩阵驳回"}),
    ("POST", "/api/v1/deals/{deal_id}/payments"): lambda c, s: (
        f"/api/v1/deals/{c.deals[s]['change']}/payments", None, {"amount_fen": 100}),
    ("GET", "/api/v1/deals/projects/{project_id}/calls"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/calls", None, None),
    ("POST", "/api/v1/deals/projects/{project_id}/calls"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/calls", None, None),
    ("POST", "/api/v1/deals/projects/{project_id}/calls/next"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/calls/next", None, None),
    ("POST", "/api/v1/deals/calls/{call_id}/miss"): lambda c, s: (
        f"/api/v1/deals/calls/{c.deals[s]['miss']}/miss", None, None),
    ("POST", "/api/v1/deals/calls/{call_id}/pick"): lambda c, s: (
        f"/api/v1/deals/calls/{c.deals[s]['pick']}/pick", None,
        {"unit_id": c.deals[s]["pick_unit"]}),
    ("GET", "/api/v1/deals/projects/{project_id}/settings"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/settings", None, None),
    ("PUT", "/api/v1/deals/projects/{project_id}/settings"): lambda c, s: (
        f"/api/v1/deals/projects/{c.deals[s]['project']}/settings", None,
        {"contract_days": 10, "pick_hold_minutes": 15, "draft_days": 3,
         "manager_discount_pct": 100,
         "director_discount_pct": 100}),
}
