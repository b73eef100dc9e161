"""Reception facts kept by the cloud: the rota's history as the appliances recorded it,
and each visit's profile (ADR 0033)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, Index
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_dict
from shared.timeutil import utcnow


class RotaEventRecord(SQLModel, table=True):
    """One change of a site's reception queue (`rota.changed`). Its id is the appliance's
    `rota_event_id`, so a replayed event finds it."""

    __tablename__ = "reception_rota_event"
    __table_args__ = (Index("ix_reception_rota_event_site_day", "site_id", "duty_date",
                            "occurred_at"),)

    id: str = Field(primary_key=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    project_id: int | None = Field(default=None, foreign_key="project.id")
    duty_date: date = Field(sa_column=Column(Date, nullable=False))
    occurred_at: datetime = Field(sa_column=utc_column())
    consultant_id: int = Field(description="cloud user id as the appliance named it")
    action: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    reason: str = Field(max_length=200)
    away_reason: str | None = Field(default=None, max_length=20)
    visit_id: str | None = Field(default=None, max_length=36)
    position_before: int | None = None
    position_after: int | None = None
    detail: dict[str, Any] = Field(default_factory=empty_dict,
                                   sa_column=Column(JSON, nullable=False))
    event_seq: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class VisitProfileRecord(SQLModel, table=True):
    """A visit's profile (one row per visit): gender, 认知途径, intention, grade, the
    number's 号码归属地, the rota facts and a stand-in's credit share. A manager's same-day
    correction raises `revision`."""

    __tablename__ = "visit_profile"

    visit_id: str = Field(primary_key=True, foreign_key="visit.id", max_length=36)
    gender: str | None = Field(default=None, max_length=8)
    awareness: str | None = Field(default=None, max_length=20)
    layout: str | None = Field(default=None, max_length=30)
    area_min: int | None = None
    area_max: int | None = None
    budget_min: int | None = Field(default=None, description="万元")
    budget_max: int | None = Field(default=None, description="万元")
    purpose: str | None = Field(default=None, max_length=12)
    grade: str | None = Field(default=None, max_length=1)
    phone_region: str | None = Field(default=None, max_length=40)
    consumed_turn: bool | None = None
    stand_in_for_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    stand_in_share: int | None = Field(default=None, description="percent of a same-day deal")
    claimable_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    revision: int = 0
    corrected_by: int | None = Field(default=None, foreign_key="app_user.id")
    corrected_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class ReceptionSetting(SQLModel, table=True):
    """A project's reception settings (shared.reception.ReceptionRules) as the office uses
    them: changed in the console or on the appliance, the newer change kept (ADR 0051).
    No row: the rules page's defaults."""

    __tablename__ = "reception_setting"

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    rules: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changed_at: datetime = Field(sa_column=utc_column())
    # The cloud user id, as the console or the appliance (its roster) named them; no
    # foreign key, so a change from an appliance never fails its sync run on it.
    changed_by: int | None = None
    # "console", or "site:<id>" for a change made on the office's appliance.
    changed_via: str = Field(max_length=40)


class CallRecord(SQLModel, table=True):
    """An incoming call (来电登记) registered on an appliance (`call.recorded`). Its id is
    the appliance's `call_id`, so a replayed event finds it. `call_date` is the Beijing day
    of `occurred_at`: the day 来电转来访 counts it on."""

    __tablename__ = "call_record"
    __table_args__ = (Index("ix_call_record_project_day", "project_id", "call_date"),)

    id: str = Field(primary_key=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    project_id: int = Field(foreign_key="project.id")
    phone_enc: str = Field(max_length=200, description="AES-GCM, context call.phone")
    phone_bidx: str = Field(max_length=64, index=True)
    phone_masked: str = Field(max_length=11)
    name_enc: str | None = Field(default=None, max_length=300,
                                 description="AES-GCM, context call.name")
    awareness: str | None = Field(default=None, max_length=20)
    # The cloud user id as the appliance named it; one the site does not know is dropped
    # (the call is real), as a visit's.
    consultant_id: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_by: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_column=utc_column())
    call_date: date = Field(sa_column=Column(Date, nullable=False))
    event_seq: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
