"""A customer as the down-feed states it to the appliances of its site."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from cloud.sales.models import ERASED_MASK
from shared.crypto import BlindIndex
from shared.names import mask_name
from shared.timeutil import iso


class CustomerFacts(Protocol):
    """What the down-feed states about a customer: a stored row or one just inserted."""

    id: int | None
    project_id: int
    phone_enc: str
    phone_masked: str
    name_enc: str | None
    owner_id: int | None
    visit_count: int
    first_visit_at: datetime
    last_visit_at: datetime
    protection_until: datetime
    last_effective_at: datetime | None
    ownership: str
    owned_since: datetime | None
    status: str
    payment_method: str | None

    def contacted(self, at: datetime) -> None: ...


def erased_feed_item(project_id: int, *, phone: str, site_key: bytes
                     ) -> tuple[str, dict[str, Any]]:
    """The down-feed item that tells an appliance a customer was erased: only the key.

    Its kind stays "customer" (not a new kind) so that agents older than edge schema v9,
    which refuse a batch with a kind they do not know, keep syncing: they upsert the
    blanked row; newer agents see `erased` and delete the row and anonymise the visits
    and follow-ups they hold of that customer.
    """
    site_bidx = BlindIndex(site_key).phone(phone)
    return f"{project_id}:{site_bidx}", {
        "project_id": project_id, "phone_bidx": site_bidx, "phone_masked": ERASED_MASK,
        "erased": True,
    }


def customer_feed_item(
    customer: CustomerFacts, *, phone: str, site_key: bytes, owner_name: str | None,
    name: str | None,
) -> tuple[str, dict[str, Any]]:
    """The down-feed form: indexed with the site's own key, so appliances share no secret."""
    site_bidx = BlindIndex(site_key).phone(phone)
    return f"{customer.project_id}:{site_bidx}", {
        "project_id": customer.project_id,
        "phone_bidx": site_bidx,
        "phone_masked": customer.phone_masked,
        "name_masked": mask_name(name),
        "owner_id": customer.owner_id,
        "owner_name": owner_name,
        "visit_count": customer.visit_count,
        "first_visit_at": iso(customer.first_visit_at),
        "last_visit_at": iso(customer.last_visit_at),
        "protection_until": iso(customer.protection_until),
        "last_effective_at": iso(customer.last_effective_at)
        if customer.last_effective_at else None,
        "customer_ref": str(customer.id),
        # Customer 360 on the consultant's phone filters by these offline (edge schema v14).
        "status": customer.status,
        "ownership": customer.ownership,
        "payment_method": customer.payment_method,
    }
