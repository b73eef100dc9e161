"""channel: agencies, brokers, project rule versions, referrals (报备)

Revision ID: 0014_channel
Revises: 0013_sync_instance_since
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_channel"
down_revision: str | None = "0013_sync_instance_since"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_agency",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("invite_code", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("invite_code", name="uq_channel_agency_invite_code"),
        sa.CheckConstraint("status IN ('invited', 'pending', 'active', 'frozen')",
                           name="ck_channel_agency_status"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5",
                           name="ck_channel_agency_rating"),
    )
    op.create_table(
        "channel_broker",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("channel_agency.id"),
                  nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("phone_enc", sa.String(200), nullable=False),
        sa.Column("phone_bidx", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("user_id", name="uq_channel_broker_user"),
        sa.CheckConstraint("status IN ('pending', 'active', 'frozen')",
                           name="ck_channel_broker_status"),
        sa.CheckConstraint("kind IN ('agency', 'referrer')", name="ck_channel_broker_kind"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5",
                           name="ck_channel_broker_rating"),
    )
    op.create_index("ix_channel_broker_agency_id", "channel_broker", ["agency_id"])
    op.create_index("ix_channel_broker_phone_bidx", "channel_broker", ["phone_bidx"])
    op.create_table(
        "channel_rule_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", TS, nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("project_id", "version", name="uq_channel_rule_version"),
    )
    op.create_index("ix_channel_rule_version_project_id", "channel_rule_version",
                    ["project_id"])
    op.create_table(
        "channel_referral",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("broker_id", sa.Integer(), sa.ForeignKey("channel_broker.id"),
                  nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("channel_agency.id"),
                  nullable=True),
        sa.Column("customer_group", sa.String(16), nullable=False),
        sa.Column("name_enc", sa.String(300), nullable=False),
        sa.Column("phone_enc", sa.String(200), nullable=True),
        sa.Column("phone_bidx", sa.String(64), nullable=True),
        sa.Column("phone_given", sa.String(11), nullable=True),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("phone34_bidx", sa.String(64), nullable=True),
        sa.Column("phone7_bidx", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("broker_live_referrals", sa.Integer(), nullable=False),
        sa.Column("protection_until", TS, nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.UniqueConstraint("broker_id", "idempotency_key", name="uq_channel_referral_idem"),
        sa.CheckConstraint("state IN ('pending', 'confirmed', 'invalid', 'expired')",
                           name="ck_channel_referral_state"),
        sa.CheckConstraint("customer_group IN ('individual', 'corporate')",
                           name="ck_channel_referral_group"),
    )
    op.create_index("ix_channel_referral_project_id", "channel_referral", ["project_id"])
    op.create_index("ix_channel_referral_agency_id", "channel_referral", ["agency_id"])
    op.create_index("ix_channel_referral_project_bidx", "channel_referral",
                    ["project_id", "phone_bidx"])
    op.create_index("ix_channel_referral_project_34", "channel_referral",
                    ["project_id", "phone34_bidx"])
    op.create_index("ix_channel_referral_project_7", "channel_referral",
                    ["project_id", "phone7_bidx"])
    op.create_index("ix_channel_referral_broker_created", "channel_referral",
                    ["broker_id", "created_at"])


def downgrade() -> None:
    op.drop_table("channel_referral")
    op.drop_table("channel_rule_version")
    op.drop_table("channel_broker")
    op.drop_table("channel_agency")
