"""Bodies of the face routes."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.consent import NOTICE_VERSION_MAX
from shared.timeutil import UtcDateTime


class KioskFacesOut(BaseModel):
    """What the kiosk needs to offer the face step: whether the site uses faces, and the
    notice the visitor reads (the signage text)."""

    enabled: bool
    signage_text: str | None
    notice_version: str | None


class FaceConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The notice the visitor read on the tablet; it must be the site's current one.
    notice_version: str = Field(min_length=1, max_length=NOTICE_VERSION_MAX)


class FaceConsentOut(BaseModel):
    # linked: the face the kiosk camera just saw is this registration's; waiting: the
    # next visitor face at the kiosk camera within five minutes will be.
    state: Literal["linked", "waiting"]


class FacePersonOut(BaseModel):
    person_ref: uuid.UUID
    kind: str
    visit_id: uuid.UUID | None
    consultant_id: int | None
    last_seen_at: UtcDateTime
    sightings: int


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consultant_id: int = Field(ge=1, le=2**31 - 1)


class WithdrawOut(BaseModel):
    erased: list[uuid.UUID]
