"""Prospecting tasks (拓客任务): a target of one metric over a period of Beijing days, on
projects, for agencies or brokers. Completion is never stored: it is counted from the
referrals, guided visits and sign-ups of the period (cloud.channel.prospecting_progress)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.dbtypes import empty_list
from shared.timeutil import utcnow

TASK_STATUSES = ("draft", "published", "closed", "cancelled")
# referrals 报备数 / valid_referrals 有效报备 (not refused) / visits 带看到访 (guided visits
# recorded on the visit) / invited_brokers 邀请经纪人 (sign-ups through the invites).
TASK_METRICS = ("referrals", "valid_referrals", "visits", "invited_brokers")
# Who the task is for: chosen agencies, chosen brokers, the agencies of channel teams,
# or every agency cooperating on the task's projects. Brokers mode ranks brokers; the
# others rank agencies.
ASSIGN_MODES = ("agencies", "brokers", "teams", "cooperating")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ProspectingTask(SQLModel, table=True):
    __tablename__ = "channel_prospecting_task"
    __table_args__ = (
        CheckConstraint(_in("status", TASK_STATUSES), name="ck_channel_task_status"),
        CheckConstraint(_in("metric", TASK_METRICS), name="ck_channel_task_metric"),
        CheckConstraint(_in("assign_mode", ASSIGN_MODES), name="ck_channel_task_assign_mode"),
        CheckConstraint("ends_at > starts_at", name="ck_channel_task_period"),
        CheckConstraint("target >= 1", name="ck_channel_task_target"),
        Index("ix_channel_task_status_starts", "status", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    metric: str = Field(max_length=20)
    assign_mode: str = Field(max_length=16)
    # The channel teams chosen (teams mode); the agencies they held are the assignees.
    teams: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    # The default target of each assignee (an assignee row may carry its own).
    target: int
    campaign_id: int | None = Field(default=None, foreign_key="channel_campaign.id",
                                    index=True)
    # [starts_at, ends_at): Beijing midnights of the first day and of the day after the last.
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())
    status: str = Field(default="draft", max_length=16)
    created_by: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # When the job channel.task_reminders told the assignees the end is near, and the
    # creator who fell short at the end: set once, so nobody is told twice.
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    end_reported_at: datetime | None = Field(default=None,
                                             sa_column=utc_column(nullable=True))


class ProspectingTaskProject(SQLModel, table=True):
    """The projects a task counts on."""

    __tablename__ = "channel_prospecting_task_project"

    task_id: int = Field(foreign_key="channel_prospecting_task.id", primary_key=True)
    project_id: int = Field(foreign_key="project.id", primary_key=True, index=True)


class ProspectingAssignee(SQLModel, table=True):
    """One agency or one broker a task is for, with their target. Resolved from the task's
    choice when it is saved or published, so a later team move or cooperation change does
    not silently change a running task (an edit does, audited)."""

    __tablename__ = "channel_prospecting_assignee"
    __table_args__ = (
        CheckConstraint("(agency_id IS NULL) <> (broker_id IS NULL)",
                        name="ck_channel_task_assignee_one"),
        CheckConstraint("target >= 1", name="ck_channel_task_assignee_target"),
        UniqueConstraint("task_id", "agency_id", name="uq_channel_task_assignee_agency"),
        UniqueConstraint("task_id", "broker_id", name="uq_channel_task_assignee_broker"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="channel_prospecting_task.id", index=True)
    agency_id: int | None = Field(default=None, foreign_key="channel_agency.id", index=True)
    broker_id: int | None = Field(default=None, foreign_key="channel_broker.id", index=True)
    target: int
