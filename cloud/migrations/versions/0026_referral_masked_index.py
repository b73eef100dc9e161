"""channel: partial indexes of the masked referrals a full number may complete

Revision ID: 0026_referral_masked_index
Revises: 0025_guided_manual
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_referral_masked_index"
down_revision: str | None = "0025_guided_manual"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MASKED = sa.text("phone_bidx IS NULL")


def upgrade() -> None:
    for name, column in (("ix_channel_referral_masked_34", "phone34_bidx"),
                         ("ix_channel_referral_masked_7", "phone7_bidx")):
        op.create_index(name, "channel_referral", ["project_id", column],
                        postgresql_where=_MASKED, sqlite_where=_MASKED)


def downgrade() -> None:
    op.drop_index("ix_channel_referral_masked_7", "channel_referral")
    op.drop_index("ix_channel_referral_masked_34", "channel_referral")
