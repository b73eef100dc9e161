"""deals: co-buyers, the buyer's ID check and the signing place; guided-visit positions

What the four deal risk checks read (ADR 0055): a document's co-buyers (共同购买人,
name and phone encrypted, the phone's blind index, the project's customer when known),
who checked the buyer's ID at the office (the number masked and as a blind index only),
where a contract was signed, and where the kiosk confirmed a guided visit.

Revision ID: 0044_deal_risk
Revises: 0043_reception_settings
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044_deal_risk"
down_revision: str | None = "0043_reception_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEAL_COLUMNS = (
    sa.Column("signed_lat", sa.Double(), nullable=True),
    sa.Column("signed_lng", sa.Double(), nullable=True),
    sa.Column("id_checked_by", sa.Integer(),
              sa.ForeignKey("app_user.id", name="fk_deal_id_checked_by"), nullable=True),
    sa.Column("id_checked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("id_type", sa.String(16), nullable=True),
    sa.Column("id_masked", sa.String(24), nullable=True),
    sa.Column("id_bidx", sa.String(64), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("deal") as batch:
        for column in _DEAL_COLUMNS:
            batch.add_column(column)
    with op.batch_alter_table("channel_qr_scan") as batch:
        batch.add_column(sa.Column("lat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("lng", sa.Double(), nullable=True))
    op.create_table(
        "deal_co_buyer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deal_id", sa.Integer(), sa.ForeignKey("deal.id"), nullable=False),
        sa.Column("name_enc", sa.String(300), nullable=False),
        sa.Column("phone_enc", sa.String(200), nullable=False),
        sa.Column("phone_bidx", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deal_co_buyer_deal_id", "deal_co_buyer", ["deal_id"])
    op.create_index("ix_deal_co_buyer_phone", "deal_co_buyer", ["phone_bidx"])
    op.create_index("uq_deal_co_buyer_phone", "deal_co_buyer", ["deal_id", "phone_bidx"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("deal_co_buyer")
    with op.batch_alter_table("channel_qr_scan") as batch:
        batch.drop_column("lng")
        batch.drop_column("lat")
    with op.batch_alter_table("deal") as batch:
        for column in reversed(_DEAL_COLUMNS):
            batch.drop_column(column.name)
