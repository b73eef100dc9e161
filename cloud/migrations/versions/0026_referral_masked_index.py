"""channel: partial indexes of the masked referrals a full number may complete, and of
the audit log's look-ups of unknown numbers by number

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
# Look-ups and searches of a number the office did not know (no customer id): the risk
# check searched_before_referral finds them by the number's blind index or mask.
_UNKNOWN = sa.text("object_type = 'customer' AND object_id = ''")
_LOOKUP_KEYS = (("ix_audit_log_unknown_bidx", "phone_bidx"),
                ("ix_audit_log_unknown_mask", "phone_masked"))


def upgrade() -> None:
    for name, column in (("ix_channel_referral_masked_34", "phone34_bidx"),
                         ("ix_channel_referral_masked_7", "phone7_bidx")):
        op.create_index(name, "channel_referral", ["project_id", column],
                        postgresql_where=_MASKED, sqlite_where=_MASKED)
    if op.get_bind().dialect.name == "postgresql":  # the demo's SQLite is small
        for name, key in _LOOKUP_KEYS:
            op.create_index(name, "audit_log", [sa.text(f"(detail ->> '{key}')")],
                            postgresql_where=_UNKNOWN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _ in _LOOKUP_KEYS:
            op.drop_index(name, "audit_log")
    op.drop_index("ix_channel_referral_masked_7", "channel_referral")
    op.drop_index("ix_channel_referral_masked_34", "channel_referral")
