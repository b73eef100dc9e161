"""reception: the rota's history from the appliances and each visit's profile

`reception_rota_event` keeps every `rota.changed` event (who, what, why); `visit_profile`
one row per visit: gender, 认知途径, intention, grade, 号码归属地, whether the reception
used a rota turn, a stand-in's absent owner and credit share, a same-day correction's
revision (ADR 0033).

Revision ID: 0028_reception
Revises: 0027_units
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_reception"
down_revision: str | None = "0027_units"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reception_rota_event",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=True),
        sa.Column("duty_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("consultant_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("away_reason", sa.String(20), nullable=True),
        sa.Column("visit_id", sa.String(36), nullable=True),
        sa.Column("position_before", sa.Integer(), nullable=True),
        sa.Column("position_after", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_reception_rota_event_site_day", "reception_rota_event",
                    ["site_id", "duty_date", "occurred_at"])
    op.create_table(
        "visit_profile",
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visit.id"), primary_key=True),
        sa.Column("gender", sa.String(8), nullable=True),
        sa.Column("awareness", sa.String(20), nullable=True),
        sa.Column("layout", sa.String(30), nullable=True),
        sa.Column("area_min", sa.Integer(), nullable=True),
        sa.Column("area_max", sa.Integer(), nullable=True),
        sa.Column("budget_min", sa.Integer(), nullable=True),
        sa.Column("budget_max", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(12), nullable=True),
        sa.Column("grade", sa.String(1), nullable=True),
        sa.Column("phone_region", sa.String(40), nullable=True),
        sa.Column("consumed_turn", sa.Boolean(), nullable=True),
        sa.Column("stand_in_for_id", sa.Integer(), sa.ForeignKey("app_user.id"),
                  nullable=True),
        sa.Column("stand_in_share", sa.Integer(), nullable=True),
        sa.Column("claimable_until", sa.Date(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("corrected_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("corrected_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_visit_profile_stand_in_for_id", "visit_profile", ["stand_in_for_id"])


def downgrade() -> None:
    op.drop_index("ix_visit_profile_stand_in_for_id", "visit_profile")
    op.drop_table("visit_profile")
    op.drop_index("ix_reception_rota_event_site_day", "reception_rota_event")
    op.drop_table("reception_rota_event")
