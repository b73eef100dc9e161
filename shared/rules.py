"""Reception rules both ends apply (the edge provisionally, the cloud with authority).

Every number is a per-project setting in a mature product; these are the defaults from
domain/reception-and-sales.md until project settings land.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.errors import Forbidden
from shared.timeutil import shanghai_date

PROTECTION_DAYS_DEFAULT = 30


class NotYourCustomer(Forbidden):
    """A consultant acts only on the customers they own (第一接待原则)."""

    code = "not_customer_owner"
    title = "这不是您名下的客户"


def protection_until(visit_at: datetime, days: int = PROTECTION_DAYS_DEFAULT) -> datetime:
    """A first visit starts the owner's protection; each return visit restarts it."""
    return visit_at + timedelta(days=days)


def same_visit_day(a: datetime, b: datetime) -> bool:
    """One customer, one day (Asia/Shanghai) = one visit for the statistics."""
    return shanghai_date(a) == shanghai_date(b)
