"""the per-project deal settings: how long a draft may hold its unit, discount authority
by role, who changed them last

Issue #22 item 5 (ADR 0046). Existing rows take the rules page's defaults.

Revision ID: 0040_deal_settings
Revises: 0038_customer_payment_method
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040_deal_settings"
down_revision: str | None = "0038_customer_payment_method"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NUMBERS = (("draft_days", "3"), ("manager_discount_pct", "100"),
            ("director_discount_pct", "100"))


def upgrade() -> None:
    with op.batch_alter_table("deal_setting") as batch:
        for name, default in _NUMBERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                       server_default=default))
        batch.add_column(sa.Column("updated_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_deal_setting_updated_by", "app_user", ["updated_by"],
                                 ["id"])
    # The defaults were for the rows already there; the models give new rows theirs.
    with op.batch_alter_table("deal_setting") as batch:
        for name, _ in _NUMBERS:
            batch.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("deal_setting") as batch:
        batch.drop_constraint("fk_deal_setting_updated_by", type_="foreignkey")
        batch.drop_column("updated_at")
        batch.drop_column("updated_by")
        for name, _ in reversed(_NUMBERS):
            batch.drop_column(name)
