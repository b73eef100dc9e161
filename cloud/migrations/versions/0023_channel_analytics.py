"""channel analytics: indexes for 渠道业绩 and 多维查询

A project's referrals by submission time (every analytics query is a date range, mostly
of one project), and the guided visit of a referral (the consultant who received a
referred customer is looked up per referral).

Revision ID: 0023_channel_analytics
Revises: 0022_channel_tasks
Create Date: 2026-11-28
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0023_channel_analytics"
down_revision: str | None = "0022_channel_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_channel_referral_project_created", "channel_referral",
                    ["project_id", "created_at"])
    op.create_index("ix_visit_referral", "visit", ["referral_id"])


def downgrade() -> None:
    op.drop_index("ix_visit_referral", "visit")
    op.drop_index("ix_channel_referral_project_created", "channel_referral")
