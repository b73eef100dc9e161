"""customer.last_effective_at: the last effective contact (a visit or a reached follow-up)

Revision ID: 0005_customer_last_effective
Revises: 0004_follow_ups
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_customer_last_effective"
down_revision: str | None = "0004_follow_ups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer", sa.Column("last_effective_at", sa.DateTime(timezone=True),
                                        nullable=True))
    # Every customer so far came from a visit; a later effective follow-up wins.
    op.execute("UPDATE customer SET last_effective_at = last_visit_at")
    op.execute(
        """
        UPDATE customer SET last_effective_at = (
            SELECT max(f.occurred_at) FROM follow_up f
            WHERE f.customer_id = customer.id AND f.effective = true)
        WHERE EXISTS (
            SELECT 1 FROM follow_up f
            WHERE f.customer_id = customer.id AND f.effective = true
              AND f.occurred_at > customer.last_effective_at)
        """
    )


def downgrade() -> None:
    op.drop_column("customer", "last_effective_at")
