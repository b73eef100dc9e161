"""Reason codes of the attribution engine: stable English codes, Chinese text for people.

Clients (broker H5, console, kiosk) branch on the code; the text is what a broker or a
reviewer reads. Codes never change meaning once released: add a new one instead.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    # Refusals at submission and invalidations later (domain/channel-rules.md).
    GROUP_OLD_OWNER = "group_old_owner"
    PROJECT_OLD_OWNER = "project_old_owner"
    EXISTING_CUSTOMER_WITH_CONSULTANT = "existing_customer_with_consultant"
    ALREADY_REFERRED_BY_OTHER = "already_referred_by_other"
    ALREADY_VISITED_BY_OTHER = "already_visited_by_other"
    IN_PROTECTION = "in_protection"
    LEAD_TIME_NOT_MET = "lead_time_not_met"
    VISIT_OVERDUE = "visit_overdue"
    DEAL_OVERDUE = "deal_overdue"
    ALREADY_REFERRED_BY_YOU = "already_referred_by_you"
    MASK_MISMATCH = "mask_mismatch"
    OTHER_MODE_CUSTOMER = "other_mode_customer"
    SUSPECTED_DUPLICATE = "suspected_duplicate"
    # Refusals the rule set's other parameters imply.
    PHONE_POLICY_VIOLATION = "phone_policy_violation"
    NAME_POLICY_VIOLATION = "name_policy_violation"
    LIVE_REFERRAL_CAP = "live_referral_cap"
    RE_REFERRAL_NOT_ALLOWED = "re_referral_not_allowed"
    COMPLETION_MISSING = "completion_missing"
    CUSTOMER_VISITED_ALONE = "customer_visited_alone"
    FOLLOW_UP_LAPSED = "follow_up_lapsed"
    REJECTED_BY_DEVELOPER = "rejected_by_developer"
    NOT_APPROVED = "not_approved"
    # A person's decision (人工改判, an Override event), and what it does to the others.
    APPEAL_UPHELD = "appeal_upheld"
    RISK_VOIDED = "risk_voided"
    RISK_BLOCKED = "risk_blocked"
    CLAIM_OVERRIDDEN = "claim_overridden"
    # States that are not refusals: every decision carries a reason, these included.
    PENDING_CONFIRMATION = "pending_confirmation"
    PENDING_APPROVAL = "pending_approval"
    REFERRAL_PROTECTED = "referral_protected"
    VISIT_CONFIRMED = "visit_confirmed"
    DEAL_IN_PROTECTION = "deal_in_protection"
    NATURAL_VISIT = "natural_visit"
    CONSULTANT_PROTECTION_ENDED = "consultant_protection_ended"
    PUBLIC_POOL = "public_pool"
    NO_OWNER = "no_owner"


REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.GROUP_OLD_OWNER: "集团老业主",
    ReasonCode.PROJECT_OLD_OWNER: "项目老业主",
    ReasonCode.EXISTING_CUSTOMER_WITH_CONSULTANT: "已有置业顾问跟进的客户",
    ReasonCode.ALREADY_REFERRED_BY_OTHER: "已被其他渠道报备",
    ReasonCode.ALREADY_VISITED_BY_OTHER: "已被其他渠道带看",
    ReasonCode.IN_PROTECTION: "处于他人保护期",
    ReasonCode.LEAD_TIME_NOT_MET: "未满足防截客时间",
    ReasonCode.VISIT_OVERDUE: "到访逾期",
    ReasonCode.DEAL_OVERDUE: "成交逾期",
    ReasonCode.ALREADY_REFERRED_BY_YOU: "您已报备过该客户",
    ReasonCode.MASK_MISMATCH: "补全号码与隐号不符",
    ReasonCode.OTHER_MODE_CUSTOMER: "其他判客模式的客户",
    ReasonCode.SUSPECTED_DUPLICATE: "疑似重号",
    ReasonCode.PHONE_POLICY_VIOLATION: "号码格式不符合本项目的报备要求",
    ReasonCode.NAME_POLICY_VIOLATION: "客户姓名不符合本项目的报备要求",
    ReasonCode.LIVE_REFERRAL_CAP: "您的有效报备已达上限",
    ReasonCode.RE_REFERRAL_NOT_ALLOWED: "该客户报备失效后不允许再次报备",
    ReasonCode.COMPLETION_MISSING: "未按要求补全号码",
    ReasonCode.CUSTOMER_VISITED_ALONE: "客户已自行到访，未经带看确认",
    ReasonCode.FOLLOW_UP_LAPSED: "跟进逾期",
    ReasonCode.REJECTED_BY_DEVELOPER: "开发商审核未通过",
    ReasonCode.NOT_APPROVED: "到访时报备尚未通过开发商审核",
    ReasonCode.APPEAL_UPHELD: "申诉成立，渠道经理已改判",
    ReasonCode.RISK_VOIDED: "风控复核确认异常，归属已作废",
    ReasonCode.RISK_BLOCKED: "触发风控拦截，报备未被受理，可申诉",
    ReasonCode.CLAIM_OVERRIDDEN: "经人工改判，客户已归属其他报备",
    ReasonCode.PENDING_CONFIRMATION: "报备待确认",
    ReasonCode.PENDING_APPROVAL: "报备待开发商审核",
    ReasonCode.REFERRAL_PROTECTED: "报备有效，处于报备保护期",
    ReasonCode.VISIT_CONFIRMED: "带看已确认，处于到访保护期",
    ReasonCode.DEAL_IN_PROTECTION: "保护期内成交，归属锁定",
    ReasonCode.NATURAL_VISIT: "自然来访客户",
    ReasonCode.CONSULTANT_PROTECTION_ENDED: "置业顾问保护期已结束",
    ReasonCode.PUBLIC_POOL: "公客池客户",
    ReasonCode.NO_OWNER: "暂无归属",
}
