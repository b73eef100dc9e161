"""channel: prospecting tasks (拓客任务), their projects and assignees

Revision ID: 0022_channel_tasks
Revises: 0021_channel_leads
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_channel_tasks"
down_revision: str | None = "0021_channel_leads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_prospecting_task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("assign_mode", sa.String(16), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("channel_campaign.id"),
                  nullable=True),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published', 'closed', 'cancelled')",
                           name="ck_channel_task_status"),
        sa.CheckConstraint("metric IN ('referrals', 'valid_referrals', 'visits', "
                           "'invited_brokers')", name="ck_channel_task_metric"),
        sa.CheckConstraint("assign_mode IN ('agencies', 'brokers', 'teams', 'cooperating')",
                           name="ck_channel_task_assign_mode"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_channel_task_period"),
        sa.CheckConstraint("target >= 1", name="ck_channel_task_target"),
    )
    op.create_index("ix_channel_prospecting_task_campaign_id", "channel_prospecting_task",
                    ["campaign_id"])
    op.create_index("ix_channel_task_status_starts", "channel_prospecting_task",
                    ["status", "starts_at"])
    op.create_table(
        "channel_prospecting_task_project",
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("channel_prospecting_task.id"),
                  primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
    )
    op.create_index("ix_channel_prospecting_task_project_project_id",
                    "channel_prospecting_task_project", ["project_id"])
    op.create_table(
        "channel_prospecting_assignee",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("channel_prospecting_task.id"),
                  nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("channel_agency.id"),
                  nullable=True),
        sa.Column("broker_id", sa.Integer(), sa.ForeignKey("channel_broker.id"),
                  nullable=True),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.CheckConstraint("(agency_id IS NULL) <> (broker_id IS NULL)",
                           name="ck_channel_task_assignee_one"),
        sa.CheckConstraint("target >= 1", name="ck_channel_task_assignee_target"),
        sa.UniqueConstraint("task_id", "agency_id", name="uq_channel_task_assignee_agency"),
        sa.UniqueConstraint("task_id", "broker_id", name="uq_channel_task_assignee_broker"),
    )
    for column in ("task_id", "agency_id", "broker_id"):
        op.create_index(f"ix_channel_prospecting_assignee_{column}",
                        "channel_prospecting_assignee", [column])


def downgrade() -> None:
    for column in ("task_id", "agency_id", "broker_id"):
        op.drop_index(f"ix_channel_prospecting_assignee_{column}",
                      "channel_prospecting_assignee")
    op.drop_table("channel_prospecting_assignee")
    op.drop_index("ix_channel_prospecting_task_project_project_id",
                  "channel_prospecting_task_project")
    op.drop_table("channel_prospecting_task_project")
    op.drop_index("ix_channel_task_status_starts", "channel_prospecting_task")
    op.drop_index("ix_channel_prospecting_task_campaign_id", "channel_prospecting_task")
    op.drop_table("channel_prospecting_task")
