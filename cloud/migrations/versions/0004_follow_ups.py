"""follow-ups (跟进) written from the consultant PWA, by edge sync or directly

Revision ID: 0004_follow_ups
Revises: 0003_sales_sync
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_follow_ups"
down_revision: str | None = "0003_sales_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "follow_up",
        # The phone's UUID: the primary key is what makes both paths idempotent.
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visit.id"), nullable=True),
        sa.Column("consultant_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("effective", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("next_at", TS, nullable=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_via", sa.String(10), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('call', 'visit', 'wechat', 'meeting')",
                           name="ck_follow_up_kind"),
    )
    for col in ("site_id", "project_id", "customer_id", "visit_id", "consultant_id",
                "occurred_at"):
        op.create_index(f"ix_follow_up_{col}", "follow_up", [col])


def downgrade() -> None:
    op.drop_table("follow_up")
