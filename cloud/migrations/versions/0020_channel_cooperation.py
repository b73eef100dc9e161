"""channel: which agencies cooperate on which project (合作渠道)

Revision ID: 0020_channel_cooperation
Revises: 0019_channel_team_review
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_channel_cooperation"
down_revision: str | None = "0019_channel_team_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_cooperation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("channel_agency.id"),
                  nullable=False),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "agency_id", name="uq_channel_cooperation"),
    )
    op.create_index("ix_channel_cooperation_agency_id", "channel_cooperation", ["agency_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_cooperation_agency_id", "channel_cooperation")
    op.drop_table("channel_cooperation")
