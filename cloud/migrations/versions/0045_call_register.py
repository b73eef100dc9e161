"""reception: the incoming-call register (来电登记)

Calls registered on the appliances (`call.recorded`), the denominator of 来电转来访
(ADR 0056).

Revision ID: 0045_call_register
Revises: 0044_deal_risk
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045_call_register"
down_revision: str | None = "0044_deal_risk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("phone_enc", sa.String(200), nullable=False),
        sa.Column("phone_bidx", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("name_enc", sa.String(300), nullable=True),
        sa.Column("awareness", sa.String(20), nullable=True),
        sa.Column("consultant_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("call_date", sa.Date(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_call_record_project_day", "call_record", ["project_id", "call_date"])
    op.create_index("ix_call_record_phone_bidx", "call_record", ["phone_bidx"])


def downgrade() -> None:
    op.drop_table("call_record")
