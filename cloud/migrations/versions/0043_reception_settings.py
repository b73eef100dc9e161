"""reception: each project's reception settings (接待设置) held by the cloud

Changed in the HQ console or on the office's appliance (a `settings_changed` rota event);
the newer change is kept and sent down as `reception.settings` (ADR 0051).

Revision ID: 0043_reception_settings
Revises: 0042_channel_scans_and_reminders
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043_reception_settings"
down_revision: str | None = "0042_channel_scans_and_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reception_setting",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_via", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reception_setting")
