"""A customer's profile as the phone shows it (客户360): what reception recorded at each of
this office's visits (ADR 0033), the latest answer of each field winning, and where the
customer stands in the cloud's sales stages and ownership."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge_agent.store.models.customers import CustomerCache
from edge_agent.store.models.reception import Visit

SINGLE_FIELDS = ("gender", "awareness", "layout", "purpose", "grade")
# A range is one answer: both ends come from the same visit, so a later visit's minimum
# never meets an earlier maximum below it.
RANGES = (("area_min", "area_max"), ("budget_min", "budget_max"))
VISITED = "visited"  # cloud.sales.stages: a customer the cloud has not staged yet
OWNED = "owned"


def merged_profile(visits: Sequence[Visit]) -> dict[str, Any]:
    """Each field's latest recorded value over the visits (oldest first): a return visit
    that left the budget blank keeps the budget the first visit gave."""
    merged: dict[str, Any] = {}
    for visit in visits:
        profile = visit.profile or {}
        merged.update({f: profile[f] for f in SINGLE_FIELDS if profile.get(f) is not None})
        for low, high in RANGES:
            if profile.get(low) is not None or profile.get(high) is not None:
                merged[low], merged[high] = profile.get(low), profile.get(high)
    return merged


def first_source(visits: Sequence[Visit]) -> str | None:
    """How the customer first came (自然来访, 渠道带访, 老带新…): the earliest visit's."""
    return visits[0].source if visits else None


def stage(cache: CustomerCache | None) -> str:
    return (cache.status if cache is not None else None) or VISITED


def ownership(cache: CustomerCache | None) -> str:
    return (cache.ownership if cache is not None else None) or OWNED
