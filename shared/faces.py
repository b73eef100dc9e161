"""Faces as they travel between the appliance and the cloud (issue #23, items 5–7).

Only ids, times, counts and scores cross the wire — never an image, a crop or a template:
templates stay on the site (the 2025 face measures; docs/security.md). Both ends validate
with these models.

Up (edge → cloud), through the outbox:
- `face.sighted`: one sighting of a person: a gallery entry of the site (`person_ref`,
  a UUID the appliance gives each face identity it keeps). An entry is a `customer`
  once a `face.consent` linked it to a registration, else a `visitor` (a temporary
  identity for a face the appliance did not know). The edge re-sends the same `sighting_id`
  while the person stays in view or comes back within the merge window; the last event
  of a `sighting_id` wins (its `count` and `last_seen_at` only grow).
- `face.consent`: a visitor granted or withdrew the separate face consent at a
  registration; the cloud links `person_ref` to the customer of `visit_id` (the edge
  may not know the cloud's customer id yet: it registers offline).
- `face.erased`: the appliance deleted a person's face data (on request, on withdrawal,
  by the retention job), so the cloud can close the request and keep its counter right.

Down (cloud → edge), through the down-feed:
- `site.faces`: whether face use is on for the site, with the signage text and notice
  version recorded when it was switched on (off by default).
- `face.erase`: delete these gallery entries now (the data-subject workflow); the cloud
  names the entries it learnt from `face.consent` and `face.sighted`.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from shared.consent import NOTICE_VERSION_MAX, ConsentMethod
from shared.events import DbId, EventTime, StrictFlag, Text

FACE_SIGHTED = "face.sighted"
FACE_CONSENT = "face.consent"
FACE_ERASED = "face.erased"
SITE_FACES = "site.faces"
FACE_ERASE = "face.erase"

# customer: a gallery entry linked to a customer by face consent; visitor: a temporary
# identity. Staff are matched and dropped on the appliance: they are never sent.
SightingSubject = Literal["customer", "visitor"]
ErasureReason = Literal["request", "withdrawn", "retention"]
SIGNAGE_TEXT_MAX = 500
Count = Annotated[int, Strict(), Field(ge=1, le=1_000_000)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class FaceSighted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sighting_id: UUID
    camera_id: UUID
    person_ref: UUID
    subject: SightingSubject
    first_seen_at: EventTime
    last_seen_at: EventTime
    # Tracks merged into this sighting (a visitor standing in view is one track).
    count: Count
    # Best similarity to the gallery entry; null for a new temporary identity.
    score: Score | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.last_seen_at < self.first_seen_at:
            raise ValueError("last_seen_at is before first_seen_at")
        return self


class FaceConsent(BaseModel):
    """Separate face consent, apart from the personal-information notice of the visit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_ref: UUID
    # The registration at which it was given or withdrawn (its customer is the person).
    visit_id: UUID
    granted: StrictFlag
    notice_version: Text = Field(min_length=1, max_length=NOTICE_VERSION_MAX)
    method: ConsentMethod
    recorded_at: EventTime


class FaceErased(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_ref: UUID
    reason: ErasureReason
    erased_at: EventTime
    # The cloud's erasure request this answers (reason "request").
    request_id: UUID | None = None


class SiteFaces(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: StrictFlag
    signage_text: Text | None = Field(default=None, max_length=SIGNAGE_TEXT_MAX)
    notice_version: Text | None = Field(default=None, max_length=NOTICE_VERSION_MAX)
    # Crops of sightings are kept on the appliance only when > 0, for at most this long.
    crop_retention_days: Annotated[int, Strict(), Field(ge=0, le=30)] = 0
    changed_at: EventTime

    @model_validator(mode="after")
    def _signage_when_on(self) -> Self:
        if self.enabled and not (self.signage_text and self.notice_version):
            raise ValueError("face use is switched on only with signage text and notice version")
        return self


class FaceErase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: UUID
    customer_id: DbId
    person_refs: list[UUID] = Field(min_length=1, max_length=100)
    requested_at: EventTime
