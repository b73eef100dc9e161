"""Permission codes and the built-in roles.

Codes follow `domain:object:action`. Administrator duties are separated as 等保二级 asks:
the system administrator manages users and configuration, the security administrator
roles and scopes, the audit administrator only reads the audit log. Business roles hold
no administrative permission.
"""

from __future__ import annotations

from enum import StrEnum


class Perm(StrEnum):
    USER_READ = "identity:user:read"
    USER_MANAGE = "identity:user:manage"
    ROLE_READ = "identity:role:read"
    ROLE_ASSIGN = "identity:role:assign"
    # Disable, enable or rename an account that holds an administrator role: the
    # security administrator's, never the system administrator's (three-admin separation).
    ADMIN_ACCOUNT_MANAGE = "identity:admin:manage"
    AUDIT_READ = "audit:log:read"
    AUDIT_EXPORT = "audit:log:export"
    SITE_READ = "catalog:site:read"
    SITE_MANAGE = "catalog:site:manage"
    # The sales office's position and address (案场位置), the far-signing check's
    # confirmation place (ADR 0060): HQ's and the channel manager's, audited.
    SITE_LOCATE = "catalog:site:locate"
    PROJECT_READ = "catalog:project:read"
    CUSTOMER_READ = "sales:customer:read"
    CUSTOMER_UNMASK = "sales:customer:unmask"
    VISIT_READ = "sales:visit:read"
    VISIT_EXPORT = "sales:visit:export"
    FOLLOW_UP_CREATE = "sales:followup:create"
    # Write follow-ups on any customer in scope, not only one's own (managers).
    FOLLOW_UP_ANY = "sales:followup:any"
    # Reveal the number of a customer one owns, to call them (audited).
    CUSTOMER_CONTACT = "sales:customer:contact"
    FOLLOW_UP_READ = "sales:followup:read"
    # Ownership (客户归属): a consultant asks to pick a customer up from the public pool;
    # the sales director (销售总监) approves or refuses; a sales manager transfers,
    # allocates, marks invalid, resolves 撞单, changes a stage by hand and sets the
    # project's ownership numbers.
    POOL_PICKUP = "sales:pool:pickup"
    POOL_APPROVE = "sales:pool:approve"
    OWNERSHIP_ASSIGN = "sales:ownership:assign"
    SYNC_READ = "sync:site:read"
    # Handle data-subject requests: sees the subject's data unmasked, corrects, erases.
    PRIVACY_REQUEST = "privacy:request:manage"
    # Channel (渠道): agencies, brokers, rule versions, referrals. What a holder sees is
    # narrowed by cloud.channel.scopes: a broker their own, an agency admin their agency's,
    # a channel manager their sites' projects'.
    AGENCY_READ = "channel:agency:read"
    AGENCY_MANAGE = "channel:agency:manage"
    BROKER_JOIN = "channel:broker:join"
    BROKER_READ = "channel:broker:read"
    BROKER_MANAGE = "channel:broker:manage"
    CHANNEL_RULES_READ = "channel:rules:read"
    CHANNEL_RULES_PUBLISH = "channel:rules:publish"
    REFERRAL_CREATE = "channel:referral:create"
    REFERRAL_READ = "channel:referral:read"
    # The developer's review of referrals where the project's rules ask for one.
    REFERRAL_REVIEW = "channel:referral:review"
    # A broker's personal invite (全民营销): their code, link, poster and who joined.
    INVITE_SHARE = "channel:invite:share"
    # 判客依据: why a customer is owned, looked up by their number (audited).
    ATTRIBUTION_READ = "channel:attribution:read"
    # The broker H5: their own status, the projects they may refer to, their customers.
    BROKER_PORTAL = "channel:portal:read"
    # Project profiles shown to brokers (区域, price band, layouts, cooperation terms).
    PROJECT_PROFILE_MANAGE = "channel:profile:manage"
    CAMPAIGN_MANAGE = "channel:campaign:manage"
    # Prospecting tasks (拓客任务): channel staff read them with their completion; the
    # channel manager creates, edits, publishes, closes and cancels them.
    TASK_READ = "channel:task:read"
    TASK_MANAGE = "channel:task:manage"
    # Appeals (申诉): a broker files one on their own referral; readers see them in the
    # referral scope; channel staff decide. Risk (渠道风控): cases and per-project policy.
    APPEAL_CREATE = "channel:appeal:create"
    APPEAL_READ = "channel:appeal:read"
    APPEAL_DECIDE = "channel:appeal:decide"
    RISK_READ = "channel:risk:read"
    RISK_REVIEW = "channel:risk:review"
    RISK_CONFIGURE = "channel:risk:configure"
    NOTIFICATION_READ = "channel:notification:read"
    # 渠道业绩 and 多维查询: counts over the referrals in the reader's referral scope
    # (their sites' projects; an agency admin their agency's); exporting them is audited.
    ANALYTICS_READ = "channel:analytics:read"
    ANALYTICS_EXPORT = "channel:analytics:export"
    # 智能拓客: the leads visitors of share links left (a broker their own, an agency admin
    # their agency's, channel staff their projects').
    LEAD_READ = "channel:lead:read"
    # Units (房源 / 销控, cloud.inventory). READ: the released units' grid (a consultant);
    # READ_ALL: unreleased units, floor prices, the 销控 log and every hold request too;
    # MANAGE: import, release batches, withdraw, grid colours; CONTROL: 销控 and approving
    # 预留; HOLD_REQUEST: ask for a 预留 for one's customer.
    INVENTORY_READ = "inventory:unit:read"
    INVENTORY_READ_ALL = "inventory:unit:read_all"
    INVENTORY_MANAGE = "inventory:unit:manage"
    INVENTORY_CONTROL = "inventory:unit:control"
    INVENTORY_HOLD_REQUEST = "inventory:hold:request"
    # Deals (认筹 / 认购 / 签约, cloud.deals). READ: the documents one sells (a consultant
    # their own); READ_ALL: every document of one's sites (HQ); CREATE: save, submit,
    # cancel, convert, ask for a change, record money received; APPROVE: approve or reject
    # documents and changes, void overdue subscriptions, run the opening-day queue (the
    # sales manager, within the discount authority of cloud.deals.pricing).
    DEAL_READ = "deals:deal:read"
    DEAL_READ_ALL = "deals:deal:read_all"
    DEAL_CREATE = "deals:deal:create"
    DEAL_APPROVE = "deals:deal:approve"
    # 销售分析 (cloud.sales.analysis): READ the figures, a consultant only their own;
    # ALL every consultant's of one's sites (managers, HQ), and exporting them (audited).
    SALES_ANALYSIS_READ = "sales:analysis:read"
    SALES_ANALYSIS_ALL = "sales:analysis:all"
    # The project's deal numbers: 签约期限, the opening-day hold, how long a draft may
    # hold its unit, and each role's discount authority (the sales director's: the
    # managers' own authority is not theirs to widen).
    DEAL_CONFIGURE = "deals:settings:manage"
    # 接待设置: a project's reception settings (rota order, working hours, away reasons,
    # penalties, the claim window), sent to the office's appliance (ADR 0051). Read by
    # the site's staff who read visits; changed by its sales manager, director and HQ.
    RECEPTION_CONFIGURE = "reception:settings:manage"
    # Faces (cloud.faces): READ a site's face settings and the distinct-person count;
    # CONFIGURE switch a site's face use on or off (signage, capture area, notice — a
    # privacy policy, so the security administrator's or HQ's); DATA_READ a customer's
    # face consents and sighting timeline (audited: sensitive personal information).
    FACES_READ = "faces:site:read"
    FACES_CONFIGURE = "faces:site:configure"
    FACE_DATA_READ = "faces:data:read"


ROLE_NAMES: dict[str, str] = {
    "sys_admin": "系统管理员",
    "security_admin": "安全管理员",
    "audit_admin": "审计管理员",
    "hq_manager": "总部管理",
    "sales_director": "销售总监",
    "sales_manager": "销售经理",
    "consultant": "置业顾问",
    "receptionist": "前台",
    "privacy_officer": "个人信息保护专员",
    "broker": "经纪人",
    "agency_admin": "渠道公司管理员",
    "channel_manager": "渠道经理",
}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    "sys_admin": frozenset(
        {Perm.USER_READ, Perm.USER_MANAGE, Perm.ROLE_READ, Perm.SITE_READ, Perm.SITE_MANAGE,
         Perm.PROJECT_READ, Perm.SYNC_READ, Perm.FACES_READ}
    ),
    # Site read: the security administrator assigns data scope by site and must list them.
    "security_admin": frozenset({Perm.USER_READ, Perm.ROLE_READ, Perm.ROLE_ASSIGN,
                                 Perm.ADMIN_ACCOUNT_MANAGE, Perm.SITE_READ,
                                 Perm.FACES_READ, Perm.FACES_CONFIGURE}),
    "audit_admin": frozenset({Perm.AUDIT_READ, Perm.AUDIT_EXPORT}),
    "hq_manager": frozenset(
        {Perm.SITE_READ, Perm.PROJECT_READ, Perm.CUSTOMER_READ, Perm.CUSTOMER_UNMASK,
         Perm.VISIT_READ, Perm.VISIT_EXPORT, Perm.FOLLOW_UP_READ, Perm.SYNC_READ,
         Perm.AGENCY_READ, Perm.BROKER_READ, Perm.CHANNEL_RULES_READ,
         Perm.CHANNEL_RULES_PUBLISH, Perm.REFERRAL_READ, Perm.REFERRAL_REVIEW,
         Perm.ATTRIBUTION_READ, Perm.PROJECT_PROFILE_MANAGE, Perm.CAMPAIGN_MANAGE,
         Perm.APPEAL_READ, Perm.RISK_READ, Perm.TASK_READ, Perm.ANALYTICS_READ,
         Perm.ANALYTICS_EXPORT, Perm.LEAD_READ, Perm.INVENTORY_READ, Perm.INVENTORY_READ_ALL,
         Perm.DEAL_READ, Perm.DEAL_READ_ALL, Perm.SALES_ANALYSIS_READ, Perm.SALES_ANALYSIS_ALL,
         Perm.FACES_READ, Perm.FACES_CONFIGURE, Perm.FACE_DATA_READ,
         Perm.RECEPTION_CONFIGURE, Perm.SITE_LOCATE}
    ),
    # The sales director (销售总监) heads the sites' sales teams: approves pick-ups from
    # the public pool, approves deals within their discount authority and sets the
    # projects' deal numbers. Selling, 销控 and transfers stay the managers' work.
    "sales_director": frozenset(
        {Perm.SITE_READ, Perm.PROJECT_READ, Perm.CUSTOMER_READ, Perm.CUSTOMER_UNMASK,
         Perm.VISIT_READ, Perm.VISIT_EXPORT, Perm.FOLLOW_UP_READ, Perm.INVENTORY_READ,
         Perm.INVENTORY_READ_ALL, Perm.POOL_APPROVE, Perm.NOTIFICATION_READ,
         Perm.DEAL_READ, Perm.DEAL_APPROVE, Perm.DEAL_CONFIGURE, Perm.SALES_ANALYSIS_READ,
         Perm.SALES_ANALYSIS_ALL, Perm.RECEPTION_CONFIGURE}
    ),
    # The project's sales manager is its sales-control manager (销控经理) too.
    "sales_manager": frozenset(
        {Perm.SITE_READ, Perm.PROJECT_READ, Perm.CUSTOMER_READ, Perm.CUSTOMER_UNMASK,
         Perm.VISIT_READ, Perm.VISIT_EXPORT, Perm.FOLLOW_UP_CREATE, Perm.FOLLOW_UP_ANY,
         Perm.FOLLOW_UP_READ, Perm.INVENTORY_READ, Perm.INVENTORY_READ_ALL,
         Perm.INVENTORY_MANAGE, Perm.INVENTORY_CONTROL, Perm.INVENTORY_HOLD_REQUEST,
         Perm.OWNERSHIP_ASSIGN, Perm.NOTIFICATION_READ, Perm.DEAL_READ,
         Perm.DEAL_CREATE, Perm.DEAL_APPROVE, Perm.SALES_ANALYSIS_READ,
         Perm.SALES_ANALYSIS_ALL, Perm.RECEPTION_CONFIGURE}
    ),
    "consultant": frozenset(
        {Perm.SITE_READ, Perm.PROJECT_READ, Perm.CUSTOMER_READ, Perm.CUSTOMER_CONTACT,
         Perm.VISIT_READ, Perm.FOLLOW_UP_CREATE, Perm.FOLLOW_UP_READ, Perm.INVENTORY_READ,
         Perm.INVENTORY_HOLD_REQUEST, Perm.POOL_PICKUP, Perm.NOTIFICATION_READ,
         Perm.DEAL_READ, Perm.DEAL_CREATE, Perm.SALES_ANALYSIS_READ}
    ),
    "receptionist": frozenset({Perm.SITE_READ, Perm.PROJECT_READ, Perm.VISIT_READ}),
    # PIPL's person in charge of personal information: answers the subjects' requests.
    "privacy_officer": frozenset({Perm.SITE_READ, Perm.PROJECT_READ, Perm.PRIVACY_REQUEST,
                                  Perm.FACES_READ}),
    # Outside sellers: no site data, only their own referrals (an agency admin: the
    # agency's, and approving its brokers).
    "broker": frozenset({Perm.BROKER_JOIN, Perm.REFERRAL_CREATE, Perm.REFERRAL_READ,
                         Perm.INVITE_SHARE, Perm.BROKER_PORTAL, Perm.APPEAL_CREATE,
                         Perm.APPEAL_READ, Perm.NOTIFICATION_READ, Perm.LEAD_READ}),
    "agency_admin": frozenset({Perm.BROKER_JOIN, Perm.AGENCY_READ, Perm.BROKER_READ,
                               Perm.BROKER_MANAGE, Perm.REFERRAL_READ, Perm.INVITE_SHARE,
                               Perm.APPEAL_READ, Perm.NOTIFICATION_READ,
                               Perm.ANALYTICS_READ, Perm.LEAD_READ}),
    "channel_manager": frozenset(
        {Perm.SITE_READ, Perm.PROJECT_READ, Perm.AGENCY_READ, Perm.AGENCY_MANAGE,
         Perm.BROKER_READ, Perm.BROKER_MANAGE, Perm.CHANNEL_RULES_READ,
         Perm.CHANNEL_RULES_PUBLISH, Perm.REFERRAL_READ, Perm.REFERRAL_REVIEW,
         Perm.ATTRIBUTION_READ, Perm.PROJECT_PROFILE_MANAGE, Perm.CAMPAIGN_MANAGE,
         Perm.APPEAL_READ, Perm.APPEAL_DECIDE, Perm.RISK_READ, Perm.RISK_REVIEW,
         Perm.RISK_CONFIGURE, Perm.TASK_READ, Perm.TASK_MANAGE, Perm.ANALYTICS_READ,
         Perm.NOTIFICATION_READ, Perm.SITE_LOCATE,
         Perm.ANALYTICS_EXPORT, Perm.LEAD_READ, Perm.FACE_DATA_READ}
    ),
}

ADMIN_ROLES = frozenset({"sys_admin", "security_admin", "audit_admin"})
# Permissions that show a customer's personal data unmasked. An administrator holds a role
# carrying one only when the security administrator granted it explicitly.
PERSONAL_DATA_PERMS = frozenset({Perm.CUSTOMER_UNMASK, Perm.CUSTOMER_CONTACT})


def personal_data_roles(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """The roles among `roles` that unmask personal data."""
    return frozenset(r for r in roles if ROLE_PERMISSIONS.get(r, frozenset()) & PERSONAL_DATA_PERMS)


def permissions_of(roles: frozenset[str] | set[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= {p.value for p in ROLE_PERMISSIONS.get(role, frozenset())}
    return frozenset(granted)
