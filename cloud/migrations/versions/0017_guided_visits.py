"""guided visits (扫码带看): the broker and referral of a visit, QR scans

Revision ID: 0017_guided_visits
Revises: 0016_channel_h5
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_guided_visits"
down_revision: str | None = "0016_channel_h5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("broker_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("referral_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_visit_broker_id", "channel_broker", ["broker_id"], ["id"])
        batch.create_foreign_key("fk_visit_referral_id", "channel_referral", ["referral_id"],
                                 ["id"])
    op.create_index("ix_visit_broker_id", "visit", ["broker_id"])
    op.create_table(
        "channel_qr_scan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("broker_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("nonce", sa.String(43), nullable=True),
        sa.Column("accepted_nonce", sa.String(43), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("visit_id", sa.String(36), nullable=True),
        sa.Column("scanned_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("edge_state", sa.String(16), nullable=True),
        sa.Column("edge_reason", sa.String(40), nullable=True),
        sa.Column("cloud_state", sa.String(16), nullable=True),
        sa.Column("cloud_reason", sa.String(40), nullable=True),
        sa.UniqueConstraint("event_id", name="uq_channel_qr_scan_event"),
        sa.UniqueConstraint("accepted_nonce", name="uq_channel_qr_scan_nonce"),
        sa.CheckConstraint("outcome IN ('accepted', 'refused', 'replayed')",
                           name="ck_channel_qr_scan_outcome"),
    )
    op.create_index("ix_channel_qr_scan_site_id", "channel_qr_scan", ["site_id"])
    op.create_index("ix_channel_qr_scan_referral", "channel_qr_scan",
                    ["referral_id", "scanned_at"])
    op.create_index("ix_channel_qr_scan_nonce", "channel_qr_scan", ["nonce"])


def downgrade() -> None:
    op.drop_table("channel_qr_scan")
    op.drop_index("ix_visit_broker_id", table_name="visit")
    with op.batch_alter_table("visit") as batch:
        batch.drop_constraint("fk_visit_referral_id", type_="foreignkey")
        batch.drop_constraint("fk_visit_broker_id", type_="foreignkey")
        batch.drop_column("referral_id")
        batch.drop_column("broker_id")
