"""channel: teams of agencies (their rule overrides) and the developer's referral reviews

Revision ID: 0019_channel_team_review
Revises: 0018_appeals_risk
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_channel_team_review"
down_revision: str | None = "0018_appeals_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("channel_agency", sa.Column("team", sa.String(64), nullable=True))
    # The team at submission: moving an agency to another team later leaves the rules
    # its earlier referrals were judged by alone.
    op.add_column("channel_referral", sa.Column("team", sa.String(64), nullable=True))
    op.create_table(
        "channel_referral_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("channel_referral.id"),
                  nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(200), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # One review per referral: the decision is the developer's, once.
        sa.UniqueConstraint("referral_id", name="uq_channel_referral_review_referral"),
    )


def downgrade() -> None:
    op.drop_table("channel_referral_review")
    op.drop_column("channel_referral", "team")
    op.drop_column("channel_agency", "team")
