"""The unit's state machine, as a table.

Each row is (from state, action) → to state, with who drives it: staff through the
console holding a permission, the system (the 预留 expiry job) or the deals domain
(认筹 / 认购 / 签约 / 退房, issue #22 item 5, not built here: its rows are the hooks that
domain calls through `cloud.inventory.transitions.apply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cloud.identity.permissions import Perm


class State(StrEnum):
    UNRELEASED = "unreleased"
    AVAILABLE = "available"
    RESERVED = "reserved"
    CONTROLLED = "controlled"
    PLEDGED = "pledged"
    SUBSCRIBED = "subscribed"
    SIGNED = "signed"
    DELIVERED = "delivered"


STATE_NAMES: dict[State, str] = {
    State.UNRELEASED: "未推盘", State.AVAILABLE: "待售", State.RESERVED: "预留",
    State.CONTROLLED: "销控", State.PLEDGED: "认筹", State.SUBSCRIBED: "认购",
    State.SIGNED: "签约", State.DELIVERED: "已交付",
}

# The rules page's default colours; a project edits its own (InventoryProject.colours).
DEFAULT_COLOURS: dict[str, str] = {
    State.UNRELEASED: "#9e9e9e", State.AVAILABLE: "#ffffff", State.RESERVED: "#67c23a",
    State.CONTROLLED: "#409eff", State.PLEDGED: "#f5a0c8", State.SUBSCRIBED: "#ff9800",
    State.SIGNED: "#f44336", State.DELIVERED: "#37474f",
}


class Action(StrEnum):
    RELEASE = "release"  # 推盘 (in a batch)
    WITHDRAW = "withdraw"  # 撤盘, back to 未推盘
    RESERVE = "reserve"  # 预留 (a manager's approval of a request)
    UNRESERVE = "unreserve"  # 取消预留
    EXPIRE = "expire"  # 预留 ran out
    CONTROL = "control"  # 销控
    UNCONTROL = "uncontrol"  # 解除销控
    PLEDGE = "pledge"  # 认筹
    SUBSCRIBE = "subscribe"  # 认购
    SIGN = "sign"  # 签约
    DELIVER = "deliver"  # 交付
    RETURN = "return"  # 退房 / voided subscription / the old unit of a 换房


ACTION_NAMES: dict[Action, str] = {
    Action.RELEASE: "推盘", Action.WITHDRAW: "撤盘", Action.RESERVE: "预留",
    Action.UNRESERVE: "取消预留", Action.EXPIRE: "预留到期", Action.CONTROL: "销控",
    Action.UNCONTROL: "解除销控", Action.PLEDGE: "认筹", Action.SUBSCRIBE: "认购",
    Action.SIGN: "签约", Action.DELIVER: "交付", Action.RETURN: "退房",
}


class Driver(StrEnum):
    STAFF = "staff"
    SYSTEM = "system"
    DEAL = "deal"


@dataclass(frozen=True)
class Transition:
    to: State
    driver: Driver
    perm: Perm | None = None  # what a staff driver must hold
    needs_reason: bool = False


S, A = State, Action
_MANAGE, _CONTROL = Perm.INVENTORY_MANAGE, Perm.INVENTORY_CONTROL

TRANSITIONS: dict[tuple[State, Action], Transition] = {
    (S.UNRELEASED, A.RELEASE): Transition(S.AVAILABLE, Driver.STAFF, _MANAGE),
    (S.AVAILABLE, A.WITHDRAW): Transition(S.UNRELEASED, Driver.STAFF, _MANAGE, True),
    (S.AVAILABLE, A.RESERVE): Transition(S.RESERVED, Driver.STAFF, _CONTROL, True),
    (S.RESERVED, A.UNRESERVE): Transition(S.AVAILABLE, Driver.STAFF, _CONTROL, True),
    (S.RESERVED, A.EXPIRE): Transition(S.AVAILABLE, Driver.SYSTEM),
    (S.AVAILABLE, A.CONTROL): Transition(S.CONTROLLED, Driver.STAFF, _CONTROL, True),
    (S.RESERVED, A.CONTROL): Transition(S.CONTROLLED, Driver.STAFF, _CONTROL, True),
    (S.CONTROLLED, A.UNCONTROL): Transition(S.AVAILABLE, Driver.STAFF, _CONTROL, True),
    (S.CONTROLLED, A.RESERVE): Transition(S.RESERVED, Driver.STAFF, _CONTROL, True),
    # The deals domain's hooks. A pledge on an unreleased unit is a project setting
    # (InventoryProject.pledge_unreleased), checked by apply().
    (S.UNRELEASED, A.PLEDGE): Transition(S.PLEDGED, Driver.DEAL),
    (S.AVAILABLE, A.PLEDGE): Transition(S.PLEDGED, Driver.DEAL),
    (S.RESERVED, A.PLEDGE): Transition(S.PLEDGED, Driver.DEAL),
    (S.AVAILABLE, A.SUBSCRIBE): Transition(S.SUBSCRIBED, Driver.DEAL),
    (S.RESERVED, A.SUBSCRIBE): Transition(S.SUBSCRIBED, Driver.DEAL),
    (S.PLEDGED, A.SUBSCRIBE): Transition(S.SUBSCRIBED, Driver.DEAL),
    (S.SUBSCRIBED, A.SIGN): Transition(S.SIGNED, Driver.DEAL),
    (S.SIGNED, A.DELIVER): Transition(S.DELIVERED, Driver.DEAL),
    (S.PLEDGED, A.RETURN): Transition(S.AVAILABLE, Driver.DEAL),
    (S.SUBSCRIBED, A.RETURN): Transition(S.AVAILABLE, Driver.DEAL),
    (S.SIGNED, A.RETURN): Transition(S.AVAILABLE, Driver.DEAL),
}

# States a consultant may see: released ones (everything but 未推盘).
RELEASED_STATES = frozenset(State) - {State.UNRELEASED}
# Actions the console offers on a unit (release goes through a batch, reserve through an
# approved request; the rest are the deals domain's and the job's).
CONSOLE_ACTIONS = frozenset({Action.WITHDRAW, Action.UNRESERVE, Action.CONTROL,
                             Action.UNCONTROL})
