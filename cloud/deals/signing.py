"""Where a contract is signed (签约地点, ADR 0060), given at 认购 → 签约 where the seller
is with the buyer: the phone's position when its browser could give one (`device`), or
「在案场」 (`site`): the office of the deal's project, whose configured position is copied
onto the document — until one is set the far-signing check reads the site's at its run.
Recording no place is allowed: the check then stays silent for that contract."""

from __future__ import annotations

from sqlmodel import Session

from cloud.catalog import position
from cloud.catalog.models import Project
from cloud.deals.errors import SigningLocationMisplaced, SigningPlaceInvalid
from cloud.deals.models import Deal
from cloud.deals.states import Kind


def record(session: Session, deal: Deal, *, at: tuple[float, float] | None,
           source: str | None) -> None:
    """Put the signing place on `deal` (a new contract): `at` the phone's (lat, lng),
    `source` device / site / None (then the coordinates decide)."""
    if at is None and source is None:
        return
    if deal.kind != Kind.CONTRACT.value:
        raise SigningLocationMisplaced()
    if (source == "site") == (at is not None):  # a site place has no coordinates, a device one has
        raise SigningPlaceInvalid()
    if at is not None:
        deal.signed_lat, deal.signed_lng = at
        deal.signed_place_source = "device"
        return
    deal.signed_place_source = "site"
    project = session.get(Project, deal.project_id)
    place = position.of_site(session, project.site_id) if project is not None else None
    if place is not None:
        deal.signed_lat, deal.signed_lng = place.lat, place.lng
