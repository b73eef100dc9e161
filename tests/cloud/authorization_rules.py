"""The authorisation matrix's policy: which roles may call each route of the cloud, and
what a permitted role gets when the request names another site (tests/cloud/
test_authorization_matrix.py walks it). Written by hand and reviewed as such — not
derived from ROLE_PERMISSIONS, so widening a role's rights fails the walk too."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("sys_admin", "security_admin", "audit_admin", "hq_manager", "sales_director",
         "sales_manager", "consultant", "receptionist", "privacy_officer", "broker",
         "agency_admin", "channel_manager")
EVERYONE = frozenset(ROLES)
# The sales director (销售总监) reads what the sites' sales managers read; of their acts
# only approvals: pick-ups from the pool, deals (within their discount authority), and
# the projects' deal settings.
DIRECTOR = "sales_director"
SITE_STAFF = frozenset({"hq_manager", DIRECTOR, "sales_manager", "consultant", "receptionist"})
CUSTOMER_READERS = frozenset({"hq_manager", DIRECTOR, "sales_manager", "consultant"})
UNMASKERS = frozenset({"hq_manager", DIRECTOR, "sales_manager"})
PRIVACY = frozenset({"privacy_officer"})
# Outside sellers see no site data; the channel manager reads their sites and projects.
OUTSIDERS = frozenset({"broker", "agency_admin"})
CHANNEL_STAFF = frozenset({"hq_manager", "channel_manager"})
REFERRAL_READERS = CHANNEL_STAFF | OUTSIDERS
ANALYTICS_READERS = CHANNEL_STAFF | {"agency_admin"}
# Unreleased units, floor prices, the 销控 log and settings.
INVENTORY_READERS = frozenset({"hq_manager", DIRECTOR, "sales_manager"})
# Deals: who reads, sells and approves 认筹 / 认购 / 签约.
DEAL_READERS = frozenset({"hq_manager", DIRECTOR, "sales_manager", "consultant"})
DEAL_SELLERS = frozenset({"sales_manager", "consultant"})
DEAL_APPROVERS = frozenset({DIRECTOR, "sales_manager"})
# Channel managers: the shortfall of a prospecting task they created, at its end.
NOTIFIED = OUTSIDERS | {"consultant", DIRECTOR, "sales_manager", "channel_manager"}
# 销售分析: consultants read their own numbers, managers, directors and HQ everyone's and
# export.
SALES_ANALYSTS = frozenset({"hq_manager", DIRECTOR, "sales_manager", "consultant"})
SALES_ANALYSIS_EXPORTERS = frozenset({"hq_manager", DIRECTOR, "sales_manager"})
# Ownership (客户归属): the sales manager transfers and allocates; pick-ups from the pool
# are the sales director's to approve.
OWNERSHIP_MANAGERS = frozenset({"sales_manager"})
POOL_APPROVERS = frozenset({DIRECTOR})
FACE_READERS = frozenset({"sys_admin", "security_admin", "hq_manager", "privacy_officer"})

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
    # 案场位置: HQ and the channel manager (ADR 0060); the other site is not revealed.
    ("PUT", "/api/v1/sites/{site_id}/position"): Rule(CHANNEL_STAFF, other=NOT_FOUND),
    ("GET", "/api/v1/projects"): Rule(
        frozenset({"sys_admin", "privacy_officer", "channel_manager"}) | SITE_STAFF,
        other=EMPTY),
    ("POST", "/api/v1/projects"): Rule(frozenset({"sys_admin"}), other=NOT_FOUND),
    ("GET", "/api/v1/visits"): Rule(SITE_STAFF, other=EMPTY),
    ("GET", "/api/v1/reception/rota-events"): Rule(SITE_STAFF, other=EMPTY),
    # 接待设置: read by the site's staff, changed by its sales manager, director and HQ.
    ("GET", "/api/v1/projects/{project_id}/reception-settings"): Rule(SITE_STAFF,
                                                                       other=NOT_FOUND),
    ("PUT", "/api/v1/projects/{project_id}/reception-settings"): Rule(
        frozenset({"hq_manager", DIRECTOR, "sales_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/reception/visits/{visit_id}/profile"): Rule(SITE_STAFF,
                                                                 other=NOT_FOUND),
    ("GET", "/api/v1/visits/export"): Rule(UNMASKERS, other=EMPTY),
    ("GET", "/api/v1/consultants"): Rule(SITE_STAFF, other=EMPTY),
    ("GET", "/api/v1/customers"): Rule(CUSTOMER_READERS, other=EMPTY),
    ("GET", "/api/v1/customers/{customer_id}"): Rule(CUSTOMER_READERS, other=NOT_FOUND),
    ("GET", "/api/v1/customers/{customer_id}/timeline"): Rule(CUSTOMER_READERS,
                                                              other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/unmask"): Rule(UNMASKERS, other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/contact"): Rule(frozenset({"consultant"}),
                                                              other=NOT_FOUND),
    ("POST", "/api/v1/follow-ups"): Rule(frozenset({"sales_manager", "consultant"}),
                                         other=NOT_FOUND),
    ("GET", "/api/v1/follow-ups"): Rule(CUSTOMER_READERS, other=NOT_FOUND),
    ("GET", "/api/v1/ownership/customers"): Rule(CUSTOMER_READERS, other=EMPTY),
    ("GET", "/api/v1/customers/{customer_id}/ownership"): Rule(CUSTOMER_READERS,
                                                                other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/assign"): Rule(OWNERSHIP_MANAGERS,
                                                              other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/invalidate"): Rule(OWNERSHIP_MANAGERS,
                                                                  other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/stage"): Rule(OWNERSHIP_MANAGERS,
                                                             other=NOT_FOUND),
    ("POST", "/api/v1/customers/{customer_id}/pickup-requests"): Rule(
        frozenset({"consultant"}), other=NOT_FOUND),
    ("GET", "/api/v1/pool/pickup-requests"): Rule(CUSTOMER_READERS, other=EMPTY),
    ("POST", "/api/v1/pool/pickup-requests/{request_id}/decision"): Rule(
        POOL_APPROVERS, other=NOT_FOUND),
    ("GET", "/api/v1/ownership/collisions"): Rule(OWNERSHIP_MANAGERS, other=EMPTY),
    ("POST", "/api/v1/ownership/collisions/{collision_id}/resolve"): Rule(
        OWNERSHIP_MANAGERS, other=NOT_FOUND),
    ("GET", "/api/v1/projects/{project_id}/ownership-settings"): Rule(CUSTOMER_READERS,
                                                                       other=NOT_FOUND),
    ("PUT", "/api/v1/projects/{project_id}/ownership-settings"): Rule(OWNERSHIP_MANAGERS,
                                                                       other=NOT_FOUND),
    ("GET", "/api/v1/sync/sites"): Rule(frozenset({"sys_admin", "hq_manager"})),
    ("GET", "/api/v1/sync/rejections"): Rule(frozenset({"sys_admin", "hq_manager"})),
    ("GET", "/api/v1/cameras"): Rule(frozenset({"sys_admin", "hq_manager"}), other=NOT_FOUND),
    # Faces: settings and the count are read by the administrators, HQ and the privacy
    # officer; switching a site on is a privacy policy (security administrator, HQ); a
    # customer's face data is read by HQ and the channel manager (risk review), audited.
    ("GET", "/api/v1/faces/sites/{site_id}"): Rule(FACE_READERS, other=NOT_FOUND),
    ("PUT", "/api/v1/faces/sites/{site_id}"): Rule(
        frozenset({"security_admin", "hq_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/faces/count"): Rule(FACE_READERS),
    ("GET", "/api/v1/faces/customers/{customer_id}"): Rule(CHANNEL_STAFF, other=NOT_FOUND),
    ("GET", "/api/v1/faces/erasures/{request_id}"): Rule(PRIVACY),
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
    # The H5's share settings inside WeChat: whoever shares invites.
    ("POST", "/api/v1/channel/wechat/js-config"): Rule(OUTSIDERS),
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
    # Consultants and managers read theirs too: the ownership sweep's warnings, a task's
    # shortfall.
    ("GET", "/api/v1/channel/notifications/mine"): Rule(NOTIFIED),
    ("GET", "/api/v1/channel/notifications/mine/unread"): Rule(NOTIFIED),
    ("POST", "/api/v1/channel/notifications/mine/read"): Rule(NOTIFIED),
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
    ("GET", "/api/v1/sales/analysis/figures"): Rule(SALES_ANALYSTS, other=NOT_FOUND),
    ("GET", "/api/v1/sales/analysis/funnel"): Rule(SALES_ANALYSTS, other=NOT_FOUND),
    ("GET", "/api/v1/sales/analysis/sell-through"): Rule(SALES_ANALYSTS, other=NOT_FOUND),
    ("GET", "/api/v1/sales/analysis/intentions"): Rule(SALES_ANALYSTS, other=NOT_FOUND),
    ("GET", "/api/v1/sales/analysis/figures/export"): Rule(SALES_ANALYSIS_EXPORTERS,
                                                          other=NOT_FOUND),
    ("GET", "/api/v1/channel/analytics/performance"): Rule(ANALYTICS_READERS, other=EMPTY),
    ("GET", "/api/v1/channel/analytics/rankings"): Rule(ANALYTICS_READERS, other=EMPTY),
    ("GET", "/api/v1/channel/analytics/fields"): Rule(ANALYTICS_READERS),
    ("POST", "/api/v1/channel/analytics/query"): Rule(ANALYTICS_READERS, other=EMPTY),
    ("POST", "/api/v1/channel/analytics/query/export"): Rule(CHANNEL_STAFF, other=EMPTY),
    # Saved queries are the caller's own, whatever the site; running one counts only
    # what the caller sees.
    ("GET", "/api/v1/channel/analytics/saved-queries"): Rule(ANALYTICS_READERS),
    ("PUT", "/api/v1/channel/analytics/saved-queries/{name}"): Rule(ANALYTICS_READERS),
    ("POST", "/api/v1/channel/analytics/saved-queries/{name}/run"): Rule(ANALYTICS_READERS),
    ("DELETE", "/api/v1/channel/analytics/saved-queries/{name}"): Rule(ANALYTICS_READERS),
    # 房源与销控: consultants read the released units and ask for holds (their own requests
    # listed); HQ reads everything; the sales manager (销控经理) imports, releases, holds
    # and decides. Another site's project, unit or hold does not exist.
    ("GET", "/api/v1/inventory/projects/{project_id}/grid"): Rule(
        CUSTOMER_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/inventory/projects/{project_id}/import"): Rule(
        frozenset({"sales_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/inventory/projects/{project_id}/batches"): Rule(
        INVENTORY_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/inventory/projects/{project_id}/batches"): Rule(
        frozenset({"sales_manager"}), other=NOT_FOUND),
    ("POST", "/api/v1/inventory/units/{unit_id}/transitions"): Rule(
        frozenset({"sales_manager"}), other=NOT_FOUND),
    ("GET", "/api/v1/inventory/projects/{project_id}/log"): Rule(
        INVENTORY_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/inventory/units/{unit_id}/holds"): Rule(
        frozenset({"sales_manager", "consultant"}), other=NOT_FOUND),
    ("GET", "/api/v1/inventory/projects/{project_id}/holds"): Rule(
        CUSTOMER_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/inventory/holds/{hold_id}/approve"): Rule(
        frozenset({"sales_manager"}), other=NOT_FOUND),
    ("POST", "/api/v1/inventory/holds/{hold_id}/reject"): Rule(
        frozenset({"sales_manager"}), other=NOT_FOUND),
    ("POST", "/api/v1/inventory/holds/{hold_id}/cancel"): Rule(
        frozenset({"sales_manager", "consultant"}), other=NOT_FOUND),
    ("GET", "/api/v1/inventory/projects/{project_id}/settings"): Rule(
        INVENTORY_READERS, other=NOT_FOUND),
    ("PUT", "/api/v1/inventory/projects/{project_id}/settings"): Rule(
        frozenset({"sales_manager"}), other=NOT_FOUND),
    # 认筹 / 认购 / 签约: consultants and sales managers sell (a consultant their own
    # customers' documents), HQ reads, the sales manager approves, decides changes, voids
    # overdue subscriptions and runs the opening-day queue. Another site's project,
    # document, change or call does not exist.
    ("GET", "/api/v1/deals/projects/{project_id}/deals"): Rule(DEAL_READERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/projects/{project_id}/deals"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("GET", "/api/v1/deals/{deal_id}"): Rule(DEAL_READERS, other=NOT_FOUND),
    ("PUT", "/api/v1/deals/{deal_id}/co-buyers"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/id-check"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/submit"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/approve"): Rule(DEAL_APPROVERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/reject"): Rule(DEAL_APPROVERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/cancel"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/convert"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/void"): Rule(DEAL_APPROVERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/changes"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/changes/{change_id}/apply"): Rule(DEAL_APPROVERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/changes/{change_id}/reject"): Rule(DEAL_APPROVERS,
                                                               other=NOT_FOUND),
    ("POST", "/api/v1/deals/{deal_id}/payments"): Rule(DEAL_SELLERS, other=NOT_FOUND),
    ("GET", "/api/v1/deals/projects/{project_id}/calls"): Rule(DEAL_APPROVERS,
                                                               other=NOT_FOUND),
    ("POST", "/api/v1/deals/projects/{project_id}/calls"): Rule(DEAL_APPROVERS,
                                                                other=NOT_FOUND),
    ("POST", "/api/v1/deals/projects/{project_id}/calls/next"): Rule(DEAL_APPROVERS,
                                                                     other=NOT_FOUND),
    ("POST", "/api/v1/deals/calls/{call_id}/miss"): Rule(DEAL_APPROVERS, other=NOT_FOUND),
    ("POST", "/api/v1/deals/calls/{call_id}/pick"): Rule(DEAL_APPROVERS, other=NOT_FOUND),
    # The project's deal settings: sellers and readers see them; the director sets them.
    ("GET", "/api/v1/deals/projects/{project_id}/settings"): Rule(DEAL_READERS,
                                                                  other=NOT_FOUND),
    ("PUT", "/api/v1/deals/projects/{project_id}/settings"): Rule(frozenset({DIRECTOR}),
                                                                  other=NOT_FOUND),
}
