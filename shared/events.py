"""Payloads of up-stream event types. Both ends validate them with these models."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

VISIT_REGISTERED = "visit.registered"

VisitSource = Literal["natural", "channel", "referral_old_customer", "online", "other"]


class VisitRegistered(BaseModel):
    """A walk-in registered at the kiosk. `phone` is the normalised 11-digit number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    visit_id: UUID
    project_id: int = Field(ge=1)
    phone: str = Field(pattern=r"^1[3-9]\d{9}$")
    name: str | None = Field(default=None, max_length=50)
    party_size: int = Field(ge=1, le=50)
    intent: str | None = Field(default=None, max_length=200)
    source: VisitSource = "natural"
    consultant_id: int | None = Field(default=None, ge=1)
    provisional_first_visit: bool = True


EVENT_MODELS: dict[str, type[BaseModel]] = {VISIT_REGISTERED: VisitRegistered}
