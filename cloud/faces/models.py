"""Face data the cloud keeps (issue #23, items 6–7): the sites' face settings, sighting
records, the people behind them (a site's gallery entries, by `person_ref`), face
consents, erasure requests sent to the sites and the distinct-person counter.

Never an image, a crop or a template: those stay on the appliance (shared/faces.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow


class SiteFaceSetting(SQLModel, table=True):
    """Whether a site uses faces. A site without a row has them off."""

    __tablename__ = "site_face_setting"

    site_id: str = Field(foreign_key="site.id", primary_key=True, max_length=32)
    enabled: bool = False
    signage_text: str | None = Field(default=None, max_length=500,
                                     description="告示牌文字 shown at the capture area")
    capture_area: str | None = Field(default=None, max_length=300,
                                     description="where the cameras capture faces")
    notice_version: str | None = Field(default=None, max_length=32)
    crop_retention_days: int = 0
    changed_by: int = Field(foreign_key="app_user.id")
    changed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class FacePerson(SQLModel, table=True):
    """One gallery entry of one site as the cloud learnt it: a temporary identity, or a
    customer once a face consent linked it. Kept after erasure (with `erased_at`, no
    customer) so a replayed event cannot bring the person back."""

    __tablename__ = "face_person"
    __table_args__ = (
        UniqueConstraint("site_id", "person_ref", name="uq_face_person_ref"),
        Index("ix_face_person_live", "erased_at", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    person_ref: str = Field(max_length=36, description="the appliance's id of the entry")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    consent: bool = Field(default=False, description="face consent granted and not withdrawn")
    first_seen_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    last_seen_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    erased_reason: str | None = Field(default=None, max_length=16)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(index=True))


class FaceSighting(SQLModel, table=True):
    """One sighting (`face.sighted`): the last event of its id wins, its times and count
    only grow."""

    __tablename__ = "face_sighting"
    __table_args__ = (
        Index("ix_face_sighting_person", "site_id", "person_ref", "first_seen_at"),
        Index("ix_face_sighting_site_first", "site_id", "first_seen_at"),
        CheckConstraint("subject IN ('customer', 'visitor')", name="ck_face_sighting_subject"),
    )

    sighting_id: str = Field(primary_key=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    camera_id: str = Field(max_length=36)
    person_ref: str = Field(max_length=36)
    subject: str = Field(max_length=8)
    first_seen_at: datetime = Field(sa_column=utc_column())
    last_seen_at: datetime = Field(sa_column=utc_column())
    count: int
    score: float | None = None
    received_at: datetime = Field(sa_column=utc_column(index=True),
                                  description="when the latest event of it arrived")


class FaceConsentRecord(SQLModel, table=True):
    """Each face consent given or withdrawn (`face.consent`), as the appliance recorded it."""

    __tablename__ = "face_consent"
    __table_args__ = (
        UniqueConstraint("site_id", "person_ref", "recorded_at", "granted",
                         name="uq_face_consent_event"),
        CheckConstraint("method IN ('kiosk_screen', 'staff_confirmed')",
                        name="ck_face_consent_method"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    person_ref: str = Field(max_length=36, index=True)
    visit_id: str = Field(max_length=36)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    granted: bool
    notice_version: str = Field(max_length=32)
    method: str = Field(max_length=16)
    recorded_at: datetime = Field(sa_column=utc_column())
    received_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class FaceErasure(SQLModel, table=True):
    """One gallery entry a deletion request asked a site to erase (`face.erase`), and the
    site's answer (`face.erased`)."""

    __tablename__ = "face_erasure"
    __table_args__ = (
        UniqueConstraint("request_id", "person_ref", name="uq_face_erasure_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(max_length=36, index=True,
                            description="the id of the face.erase item sent to the site")
    subject_request_id: int = Field(foreign_key="subject_request.id", index=True)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    customer_id: int = Field(foreign_key="customer.id")
    person_ref: str = Field(max_length=36)
    sent_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    due_at: datetime = Field(sa_column=utc_column())
    erased_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class FaceCounter(SQLModel, table=True):
    """The deployment's distinct-person count and which of its alarms are raised."""

    __tablename__ = "face_counter"

    id: int = Field(default=1, primary_key=True)
    persons: int = 0
    counted_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    warning_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    filing_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
