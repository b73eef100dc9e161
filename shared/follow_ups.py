"""Follow-up rules both ends apply (domain/reception-and-sales.md, 客户归属).

An *effective* follow-up (有效跟进) — the customer actually reached, or a visit — keeps a
consultant's claim on the customer alive: one is due every 7 days, with a warning 2 days
before. Because it protects ownership it has to be real: it carries what was said, and
only the customer's owner (or a sales manager) writes one. Both the edge and the cloud
check these before storing anything, whichever path the phone used. Every number is a
per-project setting in a mature product; these are the defaults until settings land.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from shared.errors import Forbidden, ValidationFailed
from shared.timeutil import shanghai_date

FOLLOW_UP_NOTE_MAX = 500
FOLLOW_UP_DUE_DAYS = 7
FOLLOW_UP_WARN_DAYS = 2
# Roles that may write follow-ups for any customer of their site (allocation, cover).
MANAGER_ROLES = frozenset({"sales_manager"})

FollowState = Literal["ok", "due_soon", "overdue"]


class FollowUpContentRequired(ValidationFailed):
    code = "follow_up_content_required"
    title = "有效跟进必须填写跟进内容：联系上客户或到访时，请写明沟通要点"


class NotCustomerOwner(Forbidden):
    code = "not_customer_owner"
    title = "只能给自己名下的客户写跟进；如需跟进他人客户，请联系销售经理转交"


class CustomerUnassigned(Forbidden):
    code = "customer_unassigned"
    title = "该客户尚未分配置业顾问，请联系销售经理分配后再写跟进"


def follow_up_effective(kind: str, reached: bool) -> bool:
    """Unanswered, switched-off or wrong-number attempts do not count."""
    return reached or kind == "visit"


def check_content(kind: str, reached: bool, note: str) -> None:
    """An effective follow-up says what was said (FollowUpContentRequired otherwise)."""
    if follow_up_effective(kind, reached) and not note.strip():
        raise FollowUpContentRequired()


def check_writer(owner_id: int | None, writer_id: int, *, manager: bool) -> None:
    """Only the owner writes follow-ups on a customer; a manager may for any."""
    if manager:
        return
    if owner_id is None:
        raise CustomerUnassigned()
    if owner_id != writer_id:
        raise NotCustomerOwner()


@dataclass(frozen=True)
class FollowDue:
    """The last Asia/Shanghai day by which the next effective follow-up is due, and where
    the customer stands now: `ok`, `due_soon` (待跟进, from 2 days before) or `overdue`
    (逾期, from the day after)."""

    due_day: date
    state: FollowState


def follow_due(last_effective_at: datetime, now: datetime) -> FollowDue:
    """Days are Asia/Shanghai calendar days: a contact any time on the 1st is due by the
    end of the 8th, whatever the hour."""
    due_day = shanghai_date(last_effective_at) + timedelta(days=FOLLOW_UP_DUE_DAYS)
    today = shanghai_date(now)
    if today > due_day:
        return FollowDue(due_day, "overdue")
    if today >= due_day - timedelta(days=FOLLOW_UP_WARN_DAYS):
        return FollowDue(due_day, "due_soon")
    return FollowDue(due_day, "ok")
