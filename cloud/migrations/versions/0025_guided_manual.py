"""guided visits without a code (手工指定带看) and the appliance's provisional answer

A scan row says how the broker was named (`qr` or `manual`); a visit says how it was
guided and keeps the appliance's provisional 判客 of its registration (ADR 0030).

Revision ID: 0025_guided_manual
Revises: 0024_channel_risk_watermark
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_guided_manual"
down_revision: str | None = "0024_channel_risk_watermark"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_qr_scan") as batch:
        batch.add_column(sa.Column("method", sa.String(8), nullable=False,
                                   server_default="qr"))
        batch.create_check_constraint("ck_channel_qr_scan_method",
                                      "method IN ('qr', 'manual')")
    op.create_index("ix_channel_qr_scan_scanned", "channel_qr_scan", ["scanned_at", "id"])
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("guide_method", sa.String(8), nullable=True))
        batch.add_column(sa.Column("edge_attribution", sa.JSON(), nullable=True))
    op.execute("UPDATE visit SET guide_method = 'qr' WHERE broker_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("edge_attribution")
        batch.drop_column("guide_method")
    op.drop_index("ix_channel_qr_scan_scanned", "channel_qr_scan")
    with op.batch_alter_table("channel_qr_scan") as batch:
        batch.drop_constraint("ck_channel_qr_scan_method", type_="check")
        batch.drop_column("method")
