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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from cloud.identity.models import User
from cloud.main import create_app
from cloud.sales.models import Visit
from cloud.settings import CloudSettings
from shared.timeutil import shanghai_date, utcnow
from tests.cloud import make_user, signed_in
from tests.cloud.appeal_world import PNG
from tests.cloud.channel_world import add_agency, add_broker, attach_broker, refer
from tests.cloud.sales_world import PHONE_A, PHONE_B, SiteWorld, build_world
from tests.cloud.test_route_permissions import ANONYMOUS_ROUTES, endpoints

ROLES = ("sys_admin", "security_admin", "audit_admin", "hq_manager", "sales_manager",
         "consultant", "receptionist", "privacy_officer", "broker", "agency_admin",
         "channel_manager")
EVERYONE = frozenset(ROLES)
SITE_STAFF = frozenset({"hq_manager", "sales_manager", "consultant", "receptionist"})
CUSTOMER_READERS = frozenset({"hq_manager", "sales_manager", "consultant"})
PRIVACY = frozenset({"privacy_officer"})
# Outside sellers see no site data; the channel manager reads their sites and projects.
OUTSIDERS = frozenset({"broker", "agency_admin"})
CHANNEL_STAFF = frozenset({"hq_manager", "channel_manager"})
REFERRAL_READERS = CHANNEL_STAFF | OUTSIDERS
ANALYTICS_READERS = CHANNEL_STAFF | {"agency_admin"}

OWN, OTHER = "own", "other"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    # What a permitted role gets when the request names the other site: "same" (the route
    # names no site), "not found" (an object there is not revealed to exist), "empty" (a
    # list filtered to it has nothing), "refused" (the site is named and not granted).
    other: str = "same"


NOT_FOUND, EMPTY = "not found", "empty"


RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/logout"): Rule(EVERYONE),
    ("POST", "/api/v1/auth/password"): Rule(EVERYONE),
    ("POST", "/api/v1/auth/edge-token"): Rule(EVERYONE, other="refused"),
    ("GET", "/api/v1/auth/me"): Rule(EVERYONE),
    ("GET", "/api/v1/users"): Rule(frozenset({"sys_admin", "security_admin"})),
    ("POST", "/api/v1/users"): Rule(frozenset({"sys_admin"})),
    ("GET", "/api/v1/users/{user_id}"): Rule(frozenset({"sys_admin", "security_admin"})),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(frozenset({"sys_admin"})),
    ("POST", "/api/v1/users/{user_id}/password-reset"): Rule(frozenset({"sys_admin"})),
    ("PUT", "/api/v1/users/{user_id}/roles"): Rule(frozenset({"security_admin"})),
    ("PUT", "/api/v1/users/{user_id}/scopes"): Rule(frozenset({"security_admin"})),
    ("GET", "/api/v1/roles"): Rule(frozenset({"sys_admin", "security_admin"})),
    ("GET", "/api/v1/audit/logs"): Rule(frozenset({"audit_admin"})),
    ("GET", "/api/v1/audit/logs/export"): Rule(frozenset({"audit_admin"})),
    ("GET", "/api/v1/sites"): Rule(EVERYONE - {"audit_admin"} - OUTSIDERS),
    ("POST", "/api/v1/sites"): Rule(frozenset({"sys_admin"})),
    ("GET", "/api/v1/projects"): Rule(
        frozenset({"sys_admin", "privacy_officer", "channel_manager"}) | SITE_STAFF,
        other=EMPTY),
    ("POST", "/api/v1/projects"): Rule(frozenset({"sys_admin"}), other=NOT_FOUND),
    ("GET", "/api/v1/visits"): Rule(SITE_STAFF, other=EMPTY),
    ("GET", "/api/v1/visits/export"): Rule(frozenset({"hq_manager", "sales_manager"}),
                                           other=EMPTY),
    ("GET", "/api/v1/consultants"): Rule(SITE_STAFF, other=EMPTY),
    ("GET", "/api/v1/customers"): Rule(CUSTOMER_READERS, other=EMPTY),
    ("GET", "/api/v1/customers/{customer_id}"): Rule(CUSTOMER_READERS, other=NOT_FOUND),
    ("GET", "/api/v1/customers/{customer_id}/timeline"): Rule(CUSTOMER_READERS,
                                                              other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/unmask"): Rule(
        frozenset({"hq_manager", "sales_manager"}), other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/contact"): Rule(frozenset({"consultant"}),
                                                              other=NOT_FOUND),
    ("POST", "/api/v1/follow-ups"): Rule(frozenset({"sales_manager", "consultant"}),
                                         other=NOT_FOUND),
    ("GET", "/api/v1/follow-ups"): Rule(CUSTOMER_READERS, other=NOT_FOUND),
    ("GET", "/api/v1/sync/sites"): Rule(frozenset({"sys_admin", "hq_manager"})),
    ("GET", "/api/v1/sync/rejections"): Rule(frozenset({"sys_admin", "hq_manager"})),
    # Data-subject requests name a person, not a site: only the privacy officer.
    ("GET", "/api/v1/privacy/requests"): Rule(PRIVACY),
    ("POST", "/api/v1/privacy/requests"): Rule(PRIVACY),
    ("GET", "/api/v1/privacy/requests/{request_id}"): Rule(PRIVACY),
    ("POST", "/api/v1/privacy/requests/{request_id}/subject-data"): Rule(PRIVACY),
    ("POST", "/api/v1/privacy/requests/{request_id}/correct"): Rule(PRIVACY),
    ("POST", "/api/v1/privacy/requests/{request_id}/erase"): Rule(PRIVACY),
    ("POST", "/api/v1/privacy/requests/{request_id}/complete"): Rule(PRIVACY),
    ("POST", "/api/v1/privacy/requests/{request_id}/refuse"): Rule(PRIVACY),
    # Agencies and brokers belong to no site: channel staff manage all of them, an agency
    # admin their own agency's (the walk's other side is another broker of the same
    # agency; tests/cloud/test_channel_*.py prove the agency boundary).
    ("POST", "/api/v1/channel/agencies"): Rule(frozenset({"channel_manager"})),
    ("GET", "/api/v1/channel/agencies"): Rule(CHANNEL_STAFF | {"agency_admin"}),
    ("PATCH", "/api/v1/channel/agencies/{agency_id}"): Rule(frozenset({"channel_manager"})),
    ("POST", "/api/v1/channel/brokers/join"): Rule(OUTSIDERS),
    ("GET", "/api/v1/channel/brokers"): Rule(CHANNEL_STAFF | {"agency_admin"}),
    ("PATCH", "/api/v1/channel/brokers/{broker_id}"): Rule(
        frozenset({"channel_manager", "agency_admin"})),
    ("GET", "/api/v1/channel/projects/{project_id}/rules"): Rule(CHANNEL_STAFF,
                                                                 other=NOT_FOUND),
    ("POST", "/api/v1/channel/projects/{project_id}/rules"): Rule(CHANNEL_STAFF,
                                                                  other=NOT_FOUND),
    ("GET", "/api/v1/channel/projects/{project_id}/cooperation"): Rule(CHANNEL_STAFF,
                                                                       other=NOT_FOUND),
    ("PUT", "/api/v1/channel/projects/{project_id}/cooperation"): Rule(
        frozenset({"channel_manager"}), other=NOT_FOUND),
    # Why a customer is owned (audited) and the what-if of a rule change: channel staff
    # of the project's site.
    ("GET", "/api/v1/channel/projects/{project_id}/attribution"): Rule(CHANNEL_STAFF,
                                                                       other=NOT_FOUND),
    ("GET", "/api/v1/channel/projects/{project_id}/attribution/export"): Rule(
        CHANNEL_STAFF, other=NOT_FOUND),
    ("POST", "/api/v1/channel/projects/{project_id}/rules/what-if"): Rule(CHANNEL_STAFF,
                                                                          other=NOT_FOUND),
    # A broker refers to any project; what they may read is their own.
    ("POST", "/api/v1/channel/referrals"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/referrals"): Rule(REFERRAL_READERS, other=EMPTY),
    ("GET", "/api/v1/channel/referrals/{referral_id}"): Rule(REFERRAL_READERS,
                                                             other=NOT_FOUND),
    # The developer's review: channel staff of the referral's project.
    ("POST", "/api/v1/channel/referrals/{referral_id}/review"): Rule(CHANNEL_STAFF,
                                                                     other=NOT_FOUND),
    # A broker's own invite (全民营销); the sign-in routes are anonymous
    # (test_route_permissions.ANONYMOUS_ROUTES).
    ("GET", "/api/v1/channel/invites/mine"): Rule(OUTSIDERS),
    ("GET", "/api/v1/channel/invites/mine/poster.png"): Rule(OUTSIDERS),
    # The broker H5: the caller's own broker row, projects open to every active broker.
    ("GET", "/api/v1/channel/broker/me"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/broker/projects"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/broker/customers"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/broker/campaigns"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/projects/{project_id}/profile"): Rule(CHANNEL_STAFF,
                                                                   other=NOT_FOUND),
    ("PUT", "/api/v1/channel/projects/{project_id}/profile"): Rule(CHANNEL_STAFF,
                                                                   other=NOT_FOUND),
    ("GET", "/api/v1/channel/campaigns"): Rule(CHANNEL_STAFF, other=EMPTY),
    ("POST", "/api/v1/channel/campaigns"): Rule(CHANNEL_STAFF, other=NOT_FOUND),
    ("GET", "/api/v1/channel/campaigns/{campaign_id}"): Rule(CHANNEL_STAFF, other=NOT_FOUND),
    ("PATCH", "/api/v1/channel/campaigns/{campaign_id}"): Rule(CHANNEL_STAFF,
                                                              other=NOT_FOUND),
    # Prospecting tasks (拓客任务): channel staff of the task's projects read them, the
    # channel manager changes them; a broker reads the ones naming them or their agency.
    ("GET", "/api/v1/channel/prospecting-tasks"): Rule(CHANNEL_STAFF, other=EMPTY),
    ("POST", "/api/v1/channel/prospecting-tasks"): Rule(frozenset({"channel_manager"}),
                                                        other=NOT_FOUND),
    ("GET", "/api/v1/channel/prospecting-tasks/{task_id}"): Rule(CHANNEL_STAFF,
                                                                 other=NOT_FOUND),
    ("PATCH", "/api/v1/channel/prospecting-tasks/{task_id}"): Rule(
        frozenset({"channel_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/channel/broker/tasks"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/broker/tasks/{task_id}"): Rule(frozenset({"broker"}),
                                                            other=NOT_FOUND),
    # Only the broker who owns the referral may have its 扫码带看 code.
    ("POST", "/api/v1/channel/referrals/{referral_id}/qr"): Rule(frozenset({"broker"}),
                                                                 other=NOT_FOUND),
    # Appeals: a broker files on their own referral; readers as for referrals; the
    # channel manager of the project decides.
    ("GET", "/api/v1/channel/appeals"): Rule(REFERRAL_READERS, other=EMPTY),
    ("POST", "/api/v1/channel/appeals"): Rule(frozenset({"broker"}), other=NOT_FOUND),
    ("GET", "/api/v1/channel/appeals/{appeal_id}"): Rule(REFERRAL_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/evidence"): Rule(frozenset({"broker"}),
                                                                   other=NOT_FOUND),
    ("GET", "/api/v1/channel/appeals/{appeal_id}/evidence/{evidence_id}"): Rule(
        REFERRAL_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/withdraw"): Rule(frozenset({"broker"}),
                                                                   other=NOT_FOUND),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/review"): Rule(
        frozenset({"channel_manager"}), other=NOT_FOUND),
    ("POST", "/api/v1/channel/appeals/{appeal_id}/decision"): Rule(
        frozenset({"channel_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/channel/notifications/mine"): Rule(OUTSIDERS),
    ("GET", "/api/v1/channel/notifications/mine/unread"): Rule(OUTSIDERS),
    ("POST", "/api/v1/channel/notifications/mine/read"): Rule(OUTSIDERS),
    # Risk cases and policy: channel staff of the project; HQ reads.
    ("GET", "/api/v1/channel/risk/cases"): Rule(CHANNEL_STAFF, other=EMPTY),
    ("GET", "/api/v1/channel/risk/cases/{case_id}"): Rule(CHANNEL_STAFF, other=NOT_FOUND),
    ("POST", "/api/v1/channel/risk/cases/{case_id}/review"): Rule(
        frozenset({"channel_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/channel/risk/dashboard"): Rule(CHANNEL_STAFF),
    # 智能拓客: a broker's share links and leads; the lead list as referrals; a customer's
    # lead timeline as the customer.
    ("POST", "/api/v1/channel/broker/shares"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/broker/shares"): Rule(frozenset({"broker"})),
    ("GET", "/api/v1/channel/broker/leads"): Rule(frozenset({"broker"})),
    ("POST", "/api/v1/channel/broker/leads/{lead_id}/referral"): Rule(
        frozenset({"broker"}), other=NOT_FOUND),
    ("GET", "/api/v1/channel/leads"): Rule(REFERRAL_READERS, other=EMPTY),
    ("GET", "/api/v1/customers/{customer_id}/lead-timeline"): Rule(CUSTOMER_READERS,
                                                                 other=NOT_FOUND),
    ("GET", "/api/v1/channel/guided-visits"): Rule(CHANNEL_STAFF, other=EMPTY),
    ("GET", "/api/v1/channel/provisional-answers"): Rule(CHANNEL_STAFF, other=EMPTY),
    ("GET", "/api/v1/channel/projects/{project_id}/risk-policy"): Rule(CHANNEL_STAFF,
                                                                       other=NOT_FOUND),
    ("PUT", "/api/v1/channel/projects/{project_id}/risk-policy"): Rule(
        frozenset({"channel_manager"}), other=NOT_FOUND),
    # 渠道业绩 and 多维查询: channel staff count their sites' projects, an agency admin
    # their agency (the other site's project holds another agency's referral: nothing to
    # count either way); exports are channel staff's.
    ("GET", "/api/v1/channel/analytics/performance"): Rule(ANALYTICS_READERS, other=EMPTY),
    ("GET", "/api/v1/channel/analytics/rankings"): Rule(ANALYTICS_READERS, other=EMPTY),
    ("GET", "/api/v1/channel/analytics/fields"): Rule(ANALYTICS_READERS),
    ("POST", "/api/v1/channel/analytics/query"): Rule(ANALYTICS_READERS, other=EMPTY),
    ("POST", "/api/v1/channel/analytics/query/export"): Rule(CHANNEL_STAFF, other=EMPTY),
}


@dataclass
class Ctx:
    """What the requests name: the caller's own site is site-a, the other site-b."""

    world: dict[str, Any]
    targets: dict[str, int]  # a business user at each site, for the user routes
    privacy_request: int  # an open access request (a call of the wrong kind answers 409)
    # Channel objects by side: agency, broker (of the own agency on both sides: see the
    # rules) and a referral — m.broker's at site A's project, another agency's at site B's.
    channel: dict[str, dict[str, int]]

    def site(self, side: str) -> str:
        return "site-a" if side == OWN else "site-b"

    def sales(self, side: str) -> SiteWorld:
        found: SiteWorld = self.world[self.site(side)]
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


def _analytics_query(project_id: int) -> dict[str, Any]:
    return {"dimensions": ["agency"], "measures": ["referrals"],
            "filters": {"project_ids": [project_id]}}


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
    ("GET", "/api/v1/projects"): lambda c, s: ("/api/v1/projects", {"site_id": c.site(s)}, None),
    ("POST", "/api/v1/projects"): lambda c, s: (
        "/api/v1/projects", None, {"site_id": c.site(s), "name": "矩阵项目"}),
    ("GET", "/api/v1/visits"): lambda c, s: ("/api/v1/visits", {"site_id": c.site(s)}, None),
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
    ("GET", "/api/v1/sync/sites"): lambda c, s: ("/api/v1/sync/sites", None, None),
    ("GET", "/api/v1/sync/rejections"): lambda c, s: ("/api/v1/sync/rejections", None, None),
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
    ("GET", "/api/v1/channel/analytics/performance"): lambda c, s: (
        "/api/v1/channel/analytics/performance", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/analytics/rankings"): lambda c, s: (
        "/api/v1/channel/analytics/rankings", {"project_id": c.sales(s).project_id}, None),
    ("GET", "/api/v1/channel/analytics/fields"): lambda c, s: (
        "/api/v1/channel/analytics/fields", None, None),
    ("POST", "/api/v1/channel/analytics/query"): lambda c, s: (
        "/api/v1/channel/analytics/query", None, _analytics_query(c.sales(s).project_id)),
    ("POST", "/api/v1/channel/analytics/query/export"): lambda c, s: (
        "/api/v1/channel/analytics/query/export", None,
        _analytics_query(c.sales(s).project_id)),
}
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
    for role in ROLES:
        make_user(db, f"m.{role}", roles=[role], site_ids=["site-a"])
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
                          opened.json()["id"], channel), {
            role: h["Authorization"] for role, h in tokens.items()}


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
