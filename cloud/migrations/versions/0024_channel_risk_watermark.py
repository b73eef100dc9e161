"""channel: the risk scan's watermark; an override's reason code

Revision ID: 0024_channel_risk_watermark
Revises: 0023_channel_analytics
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_channel_risk_watermark"
down_revision: str | None = "0023_channel_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # How far each scheduled channel scan has looked: it rechecks only what changed since.
    op.create_table(
        "channel_scan_watermark",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("scanned_through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The engine reads overrides as facts and needs their reason code; rows made before
    # this say it through their source (a risk case that voided, or one that blocked).
    with op.batch_alter_table("channel_referral_override") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(40), nullable=True))
    op.execute("""
        UPDATE channel_referral_override SET reason_code = CASE
          WHEN source = 'appeal' THEN 'appeal_upheld'
          WHEN EXISTS (SELECT 1 FROM channel_risk_case c
                       WHERE c.id = channel_referral_override.source_id AND c.voided)
            THEN 'risk_voided'
          ELSE 'risk_blocked' END
    """)
    with op.batch_alter_table("channel_referral_override") as batch:
        batch.alter_column("reason_code", existing_type=sa.String(40), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_referral_override") as batch:
        batch.drop_column("reason_code")
    op.drop_table("channel_scan_watermark")
