"""channel leads (智能拓客): share links, their opens and page views, leads

Revision ID: 0021_channel_leads
Revises: 0020_channel_cooperation
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_channel_leads"
down_revision: str | None = "0020_channel_cooperation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_share",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("broker_id", sa.Integer(), sa.ForeignKey("channel_broker.id"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("channel_campaign.id"),
                  nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.CheckConstraint(
            "(kind = 'project' AND project_id IS NOT NULL AND campaign_id IS NULL) OR "
            "(kind = 'campaign' AND campaign_id IS NOT NULL AND project_id IS NULL)",
            name="ck_channel_share_target"),
    )
    op.create_index("ix_channel_share_broker_created", "channel_share",
                    ["broker_id", "created_at"])
    op.create_index("ix_channel_share_project_id", "channel_share", ["project_id"])
    op.create_index("ix_channel_share_campaign_id", "channel_share", ["campaign_id"])
    op.create_table(
        "channel_share_event",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("share_id", sa.Integer(), sa.ForeignKey("channel_share.id"),
                  nullable=False),
        sa.Column("visitor_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("page", sa.String(32), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('open', 'view')", name="ck_channel_share_event_kind"),
        sa.CheckConstraint("seconds >= 0", name="ck_channel_share_event_seconds"),
    )
    op.create_index("ix_channel_share_event_share_visitor", "channel_share_event",
                    ["share_id", "visitor_key", "occurred_at"])
    op.create_table(
        "channel_lead",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("share_id", sa.Integer(), sa.ForeignKey("channel_share.id"),
                  nullable=False),
        sa.Column("broker_id", sa.Integer(), sa.ForeignKey("channel_broker.id"),
                  nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("channel_agency.id"),
                  nullable=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("name_enc", sa.String(300), nullable=False),
        sa.Column("phone_enc", sa.String(200), nullable=False),
        sa.Column("phone_bidx", sa.String(64), nullable=False),
        sa.Column("phone34_bidx", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("visitor_key", sa.String(64), nullable=False),
        sa.Column("consent_version", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("channel_referral.id"),
                  nullable=True),
        sa.Column("converted_at", TS, nullable=True),
        sa.UniqueConstraint("broker_id", "project_id", "phone_bidx",
                            name="uq_channel_lead_broker_project_phone"),
    )
    op.create_index("ix_channel_lead_share_id", "channel_lead", ["share_id"])
    op.create_index("ix_channel_lead_broker_id", "channel_lead", ["broker_id"])
    op.create_index("ix_channel_lead_agency_id", "channel_lead", ["agency_id"])
    op.create_index("ix_channel_lead_project_bidx", "channel_lead",
                    ["project_id", "phone_bidx"])
    op.create_index("ix_channel_lead_project_created", "channel_lead",
                    ["project_id", "created_at"])


def downgrade() -> None:
    op.drop_table("channel_lead")
    op.drop_table("channel_share_event")
    op.drop_table("channel_share")
