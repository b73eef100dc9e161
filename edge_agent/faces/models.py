"""The face tables of the edge store (schema step `V16_FACES` in
edge_agent.store.migrations.cameras, ADR 0047)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from edge_agent.store.models.base import EdgeModel, utc_field


class FaceSettings(EdgeModel, table=True):
    """One row: the site's switch as the cloud's `site.faces` last set it."""

    __tablename__ = "face_settings"

    id: int = Field(default=1, primary_key=True)
    enabled: bool = False
    signage_text: str | None = Field(default=None, max_length=500)
    notice_version: str | None = Field(default=None, max_length=32)
    crop_retention_days: int = 0
    changed_at: datetime | None = utc_field(nullable=True)


class FacePerson(EdgeModel, table=True):
    """A face identity of this site; its id is the `person_ref` the cloud knows."""

    __tablename__ = "face_person"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=10)  # visitor | customer | staff
    visit_id: uuid.UUID | None = None  # the registration whose face consent linked it
    consultant_id: int | None = None  # staff
    created_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()


class FaceTemplate(EdgeModel, table=True):
    __tablename__ = "face_template"

    id: int | None = Field(default=None, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="face_person.id")
    engine: str = Field(max_length=16)
    embedding_enc: str  # sealed with context `face.template`
    created_at: datetime = utc_field()


class FaceSighting(EdgeModel, table=True):
    __tablename__ = "face_sighting"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="face_person.id")
    camera_id: uuid.UUID
    first_seen_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    count: int = 1
    score: float | None = None
    crop_enc: str | None = None  # a JPEG sealed with context `face.crop`, when crops are kept
    crop_expires_at: datetime | None = utc_field(nullable=True)


class FaceConsentRecord(EdgeModel, table=True):
    """A face consent given or withdrawn at a registration; `person_id` is NULL until a
    face is linked to it (the visitor's face is taken from the kiosk camera)."""

    __tablename__ = "face_consent"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    visit_id: uuid.UUID
    person_id: uuid.UUID | None = None
    granted: bool
    notice_version: str = Field(max_length=32)
    method: str = Field(max_length=32)
    recorded_at: datetime = utc_field()
    linked_at: datetime | None = utc_field(nullable=True)


class FaceAccess(EdgeModel, table=True):
    """Every access to face data, kept on the appliance with the data (append-only)."""

    __tablename__ = "face_access"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    person_id: uuid.UUID | None = None
    detail: str | None = Field(default=None, max_length=200)
