"""The customer's sales stage (销售阶段) as a state machine table.

A stage says how far the customer has come (到访 → 认筹 → 认购 → 待签约 → 已签约, or 已失效 /
退款); who owns the customer is a separate attribute (cloud.sales.ownership). From 认筹 on
the stages are driven by deal documents (issue #22 item 5) through `transition` with the
actor DEAL; people change a stage by hand only where the table names their role.
The tests walk every (from, to, actor) triple of this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from shared.errors import Conflict, Forbidden, ValidationFailed

VISITED, PLEDGED, SUBSCRIBED, TO_SIGN, SIGNED, VOID, REFUNDED = (
    "visited", "pledged", "subscribed", "to_sign", "signed", "void", "refunded")
STAGE_NAMES: dict[str, str] = {
    VISITED: "到访", PLEDGED: "认筹", SUBSCRIBED: "认购", TO_SIGN: "待签约",
    SIGNED: "已签约", VOID: "已失效", REFUNDED: "退款",
}
STAGES = tuple(STAGE_NAMES)

# The system actor of deal documents; roles are the console's role codes.
DEAL = "deal"
MANAGERS = frozenset({"sales_manager"})
ACTORS = (DEAL, "sales_manager", "hq_manager", "consultant", "receptionist", "channel_manager")

_BY_DEAL = frozenset({DEAL})
# (from, to) → who may make the move. Anything not listed is refused for everyone.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (VISITED, PLEDGED): _BY_DEAL,  # a pledge (认筹) approved
    (VISITED, SUBSCRIBED): _BY_DEAL,  # a subscription without a pledge
    (PLEDGED, SUBSCRIBED): _BY_DEAL,  # the pledge converted
    (SUBSCRIBED, PLEDGED): _BY_DEAL,  # that subscription's draft given up: the pledge stands
    (PLEDGED, REFUNDED): _BY_DEAL,  # the pledge refunded
    (SUBSCRIBED, TO_SIGN): _BY_DEAL,  # subscription approved, contract due
    (SUBSCRIBED, VISITED): _BY_DEAL,  # 退房: back to 到访, history kept
    (SUBSCRIBED, REFUNDED): _BY_DEAL,
    (TO_SIGN, SIGNED): _BY_DEAL,
    (TO_SIGN, VISITED): _BY_DEAL,  # 退房 before signing
    (TO_SIGN, VOID): _BY_DEAL | MANAGERS,  # an overdue subscription voided by a manager
    (SIGNED, VISITED): _BY_DEAL,  # 退房 after signing
    (SIGNED, REFUNDED): _BY_DEAL,
    (VISITED, VOID): MANAGERS,  # not a buyer any more
    (VOID, VISITED): MANAGERS,  # reopened
    (REFUNDED, VISITED): _BY_DEAL | MANAGERS,  # back to following up
}

# From 认筹 on the customer never lapses to the public pool automatically.
NEVER_LAPSE = frozenset({PLEDGED, SUBSCRIBED, TO_SIGN, SIGNED})


class StageUnknown(ValidationFailed):
    code = "customer_stage_unknown"
    title = "未知的客户阶段"


class StageTransitionRefused(Conflict):
    code = "customer_stage_refused"
    title = "客户当前阶段不能变更为该阶段"


class StageTransitionForbidden(Forbidden):
    code = "customer_stage_forbidden"
    title = "您的角色不能做这次阶段变更（认筹及以后的阶段由交易单据驱动）"


def check(current: str, target: str, actors: Iterable[str]) -> None:
    """Raise unless one of `actors` may move a customer from `current` to `target`."""
    if target not in STAGE_NAMES or current not in STAGE_NAMES:
        raise StageUnknown()
    who = TRANSITIONS.get((current, target))
    if who is None:
        raise StageTransitionRefused(
            f"客户阶段不能从「{STAGE_NAMES[current]}」变更为「{STAGE_NAMES[target]}」")
    if not who & set(actors):
        raise StageTransitionForbidden()


class StagedCustomer(Protocol):
    status: str


def apply_deal(customer: StagedCustomer, target: str) -> None:
    """The hook for deal documents (认筹 / 认购 / 签约, 退房, 退款): moves the stage the
    table lets a deal move, and refuses the rest. The caller audits the deal itself."""
    check(customer.status, target, {DEAL})
    customer.status = target
