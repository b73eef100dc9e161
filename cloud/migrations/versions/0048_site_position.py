"""catalog: the sales office's position; where each recorded place came from

A site's configured position (WGS-84) and address, set by HQ or a channel manager, stand
for where a guided visit confirmed at its kiosk, or a contract signed 「在案场」, took place:
kiosks on the office LAN cannot read their own position. A guided visit's place and a
contract's signing place record their source — the device's own position or the site's —
so the far-signing risk check can say which it compared (ADR 0060). Places recorded
before this revision came from devices: they are marked so.

Revision ID: 0048_site_position
Revises: 0047_audit_shards
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0048_site_position"
down_revision: str | None = "0047_audit_chain_shards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("lat", sa.Double(), nullable=True))
        batch.add_column(sa.Column("lng", sa.Double(), nullable=True))
        batch.add_column(sa.Column("address", sa.String(200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column(
            "position_set_by", sa.Integer(),
            sa.ForeignKey("app_user.id", name="fk_site_position_set_by"), nullable=True))
        batch.add_column(sa.Column("position_set_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.create_check_constraint("ck_site_position_pair",
                                      "(lat IS NULL) = (lng IS NULL)")
    with op.batch_alter_table("channel_qr_scan") as batch:
        batch.add_column(sa.Column("position_source", sa.String(8), nullable=True))
        batch.create_check_constraint("ck_channel_qr_scan_position_source",
                                      "position_source IN ('device', 'site')")
    with op.batch_alter_table("deal") as batch:
        batch.add_column(sa.Column("signed_place_source", sa.String(8), nullable=True))
        batch.create_check_constraint("ck_deal_signed_place_source",
                                      "signed_place_source IN ('device', 'site')")
    op.execute("UPDATE channel_qr_scan SET position_source = 'device' "
               "WHERE lat IS NOT NULL AND lng IS NOT NULL")
    op.execute("UPDATE deal SET signed_place_source = 'device' "
               "WHERE signed_lat IS NOT NULL AND signed_lng IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("deal") as batch:
        batch.drop_constraint("ck_deal_signed_place_source", type_="check")
        batch.drop_column("signed_place_source")
    with op.batch_alter_table("channel_qr_scan") as batch:
        batch.drop_constraint("ck_channel_qr_scan_position_source", type_="check")
        batch.drop_column("position_source")
    with op.batch_alter_table("site") as batch:
        batch.drop_constraint("ck_site_position_pair", type_="check")
        for name in ("position_set_at", "position_set_by", "address", "lng", "lat"):
            batch.drop_column(name)
