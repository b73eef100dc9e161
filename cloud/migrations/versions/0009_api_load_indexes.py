"""api under load: keyset indexes of the visit and follow-up lists

Each composite index replaces the single-column one it starts with.

Revision ID: 0009_api_load_indexes
Revises: 0008_free_text_encrypted
Create Date: 2026-11-27
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0009_api_load_indexes"
down_revision: str | None = "0008_free_text_encrypted"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_visit_occurred_id", "visit", ["occurred_at", "id"])
    op.create_index("ix_visit_site_occurred_id", "visit", ["site_id", "occurred_at", "id"])
    op.create_index("ix_follow_up_customer_occurred_id", "follow_up",
                    ["customer_id", "occurred_at", "id"])
    op.drop_index("ix_visit_occurred_at", table_name="visit")
    op.drop_index("ix_visit_site_id", table_name="visit")
    op.drop_index("ix_follow_up_customer_id", table_name="follow_up")


def downgrade() -> None:
    op.create_index("ix_follow_up_customer_id", "follow_up", ["customer_id"])
    op.create_index("ix_visit_site_id", "visit", ["site_id"])
    op.create_index("ix_visit_occurred_at", "visit", ["occurred_at"])
    op.drop_index("ix_follow_up_customer_occurred_id", table_name="follow_up")
    op.drop_index("ix_visit_site_occurred_id", table_name="visit")
    op.drop_index("ix_visit_occurred_id", table_name="visit")
