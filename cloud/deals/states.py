"""The deal document's state machine, as a table.

(status, action) → Step(to, roles): the roles that may take the step by hand, or the
system (the overdue job and the stale-draft sweep). Which documents a role may touch at
all (a consultant: their own) and the price rules are checked beside the table, in
cloud.deals.service.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import Conflict, Forbidden


class Kind(StrEnum):
    PLEDGE = "pledge"  # 认筹
    SUBSCRIPTION = "subscription"  # 认购
    CONTRACT = "contract"  # 签约


KIND_NAMES = {Kind.PLEDGE: "认筹", Kind.SUBSCRIPTION: "认购", Kind.CONTRACT: "签约"}
# What a conversion makes of each kind (认筹 → 认购 → 签约).
NEXT_KIND = {Kind.PLEDGE: Kind.SUBSCRIPTION, Kind.SUBSCRIPTION: Kind.CONTRACT}


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CONVERTED = "converted"
    CHANGE_PENDING = "change_pending"
    OVERDUE = "overdue"
    VOIDED = "voided"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # 退房 applied


STATUS_NAMES = {
    Status.DRAFT: "草稿", Status.SUBMITTED: "待审批", Status.APPROVED: "已审批",
    Status.CONVERTED: "已转换", Status.CHANGE_PENDING: "变更审批中", Status.OVERDUE: "逾期未签",
    Status.VOIDED: "已作废", Status.CANCELLED: "已取消", Status.RETURNED: "已退房",
}
# Documents that hold their unit; the partial unique index of cloud.deals.models lists the same.
LIVE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.CHANGE_PENDING,
                  Status.OVERDUE})


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"  # back to draft, with the approver's note
    CANCEL = "cancel"
    CONVERT = "convert"
    REQUEST_CHANGE = "request_change"
    APPLY_CHANGE = "apply_change"
    REJECT_CHANGE = "reject_change"
    MARK_OVERDUE = "mark_overdue"
    VOID = "void"
    EXPIRE = "expire"  # a stale draft cancelled by the sweep


ACTION_NAMES = {
    Action.SUBMIT: "提交审批", Action.APPROVE: "审批通过", Action.REJECT: "驳回",
    Action.CANCEL: "取消", Action.CONVERT: "转换", Action.REQUEST_CHANGE: "申请变更",
    Action.APPLY_CHANGE: "批准变更", Action.REJECT_CHANGE: "驳回变更",
    Action.MARK_OVERDUE: "逾期", Action.VOID: "作废", Action.EXPIRE: "超期取消",
}

SYSTEM = "system"
CONSULTANT, MANAGER, DIRECTOR = "consultant", "sales_manager", "sales_director"
_SELLERS = frozenset({CONSULTANT, MANAGER})
# Approvers: the sales manager and the sales director, each within their discount
# authority (cloud.deals.pricing).
_MANAGERS = frozenset({MANAGER, DIRECTOR})


@dataclass(frozen=True)
class Step:
    to: Status
    roles: frozenset[str]


S, A = Status, Action
# Applying a 退房 ends the document (RETURNED) instead of going back to APPROVED: the
# service picks the end by the change's kind; the table names both ends it allows.
TRANSITIONS: dict[tuple[Status, Action], Step] = {
    (S.DRAFT, A.SUBMIT): Step(S.SUBMITTED, _SELLERS),
    (S.DRAFT, A.CANCEL): Step(S.CANCELLED, _SELLERS),
    (S.DRAFT, A.EXPIRE): Step(S.CANCELLED, frozenset({SYSTEM})),
    (S.SUBMITTED, A.APPROVE): Step(S.APPROVED, _MANAGERS),
    (S.SUBMITTED, A.REJECT): Step(S.DRAFT, _MANAGERS),
    (S.APPROVED, A.CONVERT): Step(S.CONVERTED, _SELLERS),
    (S.APPROVED, A.REQUEST_CHANGE): Step(S.CHANGE_PENDING, _SELLERS),
    (S.CHANGE_PENDING, A.APPLY_CHANGE): Step(S.APPROVED, _MANAGERS),
    (S.CHANGE_PENDING, A.REJECT_CHANGE): Step(S.APPROVED, _MANAGERS),
    (S.APPROVED, A.MARK_OVERDUE): Step(S.OVERDUE, frozenset({SYSTEM})),
    (S.OVERDUE, A.VOID): Step(S.VOIDED, _MANAGERS),
}
# 退房 applied: the other end of APPLY_CHANGE.
CANCEL_APPLIED = Status.RETURNED



class DealStepRefused(Conflict):
    code = "deal_transition_refused"
    title = "单据当前状态不允许此操作"


class DealStepForbidden(Forbidden):
    code = "deal_transition_forbidden"
    title = "您的角色不能对单据执行此操作"


def check(status: Status, action: Action, roles: frozenset[str] | set[str]) -> Step:
    """The table's step for one of `roles`, or the refusal (state first: a step the
    document cannot take is refused whoever asks)."""
    step = TRANSITIONS.get((status, action))
    if step is None:
        raise DealStepRefused(
            f"「{STATUS_NAMES[status]}」的单据不能{ACTION_NAMES[action]}")
    if not step.roles & set(roles):
        raise DealStepForbidden()
    return step
