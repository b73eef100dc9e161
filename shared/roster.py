"""Who a site's roster lists, and who of them works the site's customers.

The cloud feeds each site's roster down to its appliance (down-feed kind `consultant`),
every member with their roles; signing in to the consultant PWA there needs an active
entry. The sales director (销售总监, ADR 0046) is listed so they can sign in and approve
or read as their role allows (ADR 0062), but works no customers: never on the rota, never
picked to receive a visitor, to take an assigned customer or as who answered a call, so
never in the consultants' figures either.
"""

from __future__ import annotations

from collections.abc import Iterable

# Roles that work the site's customers: receive (consultants), own, are assigned, answer.
SITE_STAFF_ROLES = frozenset({"consultant", "sales_manager"})
# Roles the site's roster lists: who may sign in to the PWA at the site's appliance.
ROSTER_ROLES = SITE_STAFF_ROLES | {"sales_director"}


def works_customers(roles: Iterable[str]) -> bool:
    return not SITE_STAFF_ROLES.isdisjoint(roles)
