"""channel: appeals (申诉) with evidence, referral overrides, notifications, risk policy
and risk cases (渠道风控)

Revision ID: 0018_appeals_risk
Revises: 0017_guided_visits
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_appeals_risk"
down_revision: str | None = "0017_guided_visits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id")


def upgrade() -> None:
    op.create_table(
        "channel_referral_override",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("referral_id", sa.Integer(), _fk("channel_referral"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("engine_state", sa.String(16), nullable=False),
        sa.Column("engine_reason", sa.String(40), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=False),
        sa.Column("decided_by", sa.Integer(), _fk("app_user"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("source IN ('appeal', 'risk_case')",
                           name="ck_channel_referral_override_source"),
    )
    op.create_index("ix_channel_referral_override_referral_id", "channel_referral_override",
                    ["referral_id"])
    op.create_table(
        "channel_appeal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("referral_id", sa.Integer(), _fk("channel_referral"), nullable=False),
        sa.Column("project_id", sa.Integer(), _fk("project"), nullable=False),
        sa.Column("broker_id", sa.Integer(), _fk("channel_broker"), nullable=False),
        sa.Column("agency_id", sa.Integer(), _fk("channel_agency"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("appealed_state", sa.String(16), nullable=False),
        sa.Column("appealed_reason", sa.String(40), nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("reviewer_id", sa.Integer(), _fk("app_user"), nullable=True),
        sa.Column("decision_comment", sa.String(1000), nullable=True),
        sa.Column("override_id", sa.Integer(), _fk("channel_referral_override"),
                  nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.CheckConstraint("kind IN ('referral', 'deal')", name="ck_channel_appeal_kind"),
        sa.CheckConstraint("state IN ('submitted', 'under_review', 'upheld', 'rejected', "
                           "'withdrawn')", name="ck_channel_appeal_state"),
    )
    op.create_index("ix_channel_appeal_referral_id", "channel_appeal", ["referral_id"])
    op.create_index("ix_channel_appeal_agency_id", "channel_appeal", ["agency_id"])
    op.create_index("ix_channel_appeal_broker_created", "channel_appeal",
                    ["broker_id", "created_at"])
    op.create_index("ix_channel_appeal_project_state", "channel_appeal",
                    ["project_id", "state"])
    op.create_table(
        "channel_appeal_evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("appeal_id", sa.Integer(), _fk("channel_appeal"), nullable=False),
        sa.Column("object_key", sa.String(80), nullable=False),
        sa.Column("filename", sa.String(100), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), _fk("app_user"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("object_key", name="uq_channel_appeal_evidence_key"),
    )
    op.create_index("ix_channel_appeal_evidence_appeal_id", "channel_appeal_evidence",
                    ["appeal_id"])
    op.create_table(
        "channel_notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), _fk("app_user"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.String(500), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
    )
    op.create_index("ix_channel_notification_user_created", "channel_notification",
                    ["user_id", "created_at"])
    op.create_table(
        "channel_risk_policy",
        sa.Column("project_id", sa.Integer(), _fk("project"), primary_key=True),
        sa.Column("appeal_deadline_days", sa.Integer(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Integer(), _fk("app_user"), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "channel_risk_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), _fk("project"), nullable=False),
        sa.Column("referral_id", sa.Integer(), _fk("channel_referral"), nullable=False),
        sa.Column("broker_id", sa.Integer(), _fk("channel_broker"), nullable=False),
        sa.Column("check_code", sa.String(40), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), _fk("app_user"), nullable=True),
        sa.Column("comment", sa.String(1000), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.CheckConstraint("state IN ('open', 'confirmed', 'dismissed')",
                           name="ck_channel_risk_case_state"),
        sa.CheckConstraint("severity IN ('flag', 'review', 'block')",
                           name="ck_channel_risk_case_severity"),
        sa.UniqueConstraint("referral_id", "check_code", name="uq_channel_risk_case_check"),
    )
    op.create_index("ix_channel_risk_case_referral_id", "channel_risk_case", ["referral_id"])
    op.create_index("ix_channel_risk_case_project_state", "channel_risk_case",
                    ["project_id", "state"])


def downgrade() -> None:
    op.drop_table("channel_risk_case")
    op.drop_table("channel_risk_policy")
    op.drop_table("channel_notification")
    op.drop_table("channel_appeal_evidence")
    op.drop_table("channel_appeal")
    op.drop_table("channel_referral_override")
