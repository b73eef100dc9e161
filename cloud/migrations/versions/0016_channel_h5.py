"""channel H5: project profiles for brokers, campaigns (渠道活动)

Revision ID: 0016_channel_h5
Revises: 0015_broker_sign_in
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_channel_h5"
down_revision: str | None = "0015_broker_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_project_profile",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
        sa.Column("district", sa.String(40), nullable=False),
        sa.Column("price_min_yuan", sa.Integer(), nullable=True),
        sa.Column("price_max_yuan", sa.Integer(), nullable=True),
        sa.Column("layouts", sa.JSON(), nullable=False),
        sa.Column("cooperation", sa.String(2000), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("price_min_yuan IS NULL OR price_min_yuan >= 0",
                           name="ck_channel_profile_price_min"),
        sa.CheckConstraint("price_max_yuan IS NULL OR price_min_yuan IS NULL "
                           "OR price_max_yuan >= price_min_yuan",
                           name="ck_channel_profile_price_band"),
    )
    op.create_index("ix_channel_project_profile_district", "channel_project_profile",
                    ["district"])
    op.create_table(
        "channel_campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("requirements", sa.String(2000), nullable=False),
        sa.Column("rewards", sa.String(2000), nullable=False),
        sa.Column("announcement", sa.String(2000), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('draft', 'published', 'ended')",
                           name="ck_channel_campaign_status"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_channel_campaign_period"),
    )
    op.create_index("ix_channel_campaign_status_published", "channel_campaign",
                    ["status", "published_at"])
    op.create_table(
        "channel_campaign_project",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("channel_campaign.id"),
                  primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
    )
    op.create_index("ix_channel_campaign_project_project_id", "channel_campaign_project",
                    ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_campaign_project_project_id", "channel_campaign_project")
    op.drop_table("channel_campaign_project")
    op.drop_index("ix_channel_campaign_status_published", "channel_campaign")
    op.drop_table("channel_campaign")
    op.drop_index("ix_channel_project_profile_district", "channel_project_profile")
    op.drop_table("channel_project_profile")
