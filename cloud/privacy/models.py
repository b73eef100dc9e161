"""Data-subject requests (个人信息主体权利请求): access, copy, correction, deletion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow

KINDS = ("access", "copy", "correction", "deletion")
STATUSES = ("open", "completed", "refused")
CHANNELS = ("onsite", "phone", "email", "letter", "online")


class SubjectRequest(SQLModel, table=True):
    """One request by a person about their own data. The phone names the subject: every
    customer record with that number (any project in the handler's scope) is theirs."""

    __tablename__ = "subject_request"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="ck_subject_request_kind"),
        CheckConstraint(f"status IN {STATUSES}", name="ck_subject_request_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    status: str = Field(default="open", max_length=16, index=True)
    channel: str = Field(max_length=16, description="how the request was received")
    # Cleared once a deletion is carried out; the mask stays for the record.
    phone_enc: str | None = Field(default=None, max_length=200)
    phone_bidx: str | None = Field(default=None, max_length=64, index=True)
    phone_masked: str = Field(max_length=11)
    detail_enc: str | None = Field(default=None, max_length=1500,
                                   description="the request in the subject's words")
    received_at: datetime = Field(sa_column=utc_column())
    due_at: datetime = Field(sa_column=utc_column(index=True))
    created_by: int = Field(foreign_key="app_user.id")
    handled_by: int | None = Field(default=None, foreign_key="app_user.id")
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    refusal_code: str | None = Field(default=None, max_length=32)
    resolution: str | None = Field(default=None, max_length=500,
                                   description="what was done, or why it was refused")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
