"""the payment method of a customer's live deal document

Kept by the deal domain and stated in the customer down-feed item, so the consultant's
phone filters customers by it offline (issue #22, ADR 0039).

Revision ID: 0038_customer_payment_method
Revises: 0037_channel_rest
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0038_customer_payment_method"
down_revision: str | None = "0037_channel_rest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("payment_method", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("payment_method")
