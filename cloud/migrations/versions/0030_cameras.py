"""cameras of each site, as its appliance reports them

The appliance's camera inventory (`camera.updated` / `camera.removed`, issue #23): one
row per site and camera with its public record — never credentials (ADR 0035).

Revision ID: 0030_cameras
Revises: 0029_ownership
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0030_cameras"
down_revision: str | None = "0029_ownership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_camera",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("camera_id", sa.String(36), nullable=False),
        sa.Column("identity", sa.String(210), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("serial", sa.String(64), nullable=True),
        sa.Column("brand", sa.String(32), nullable=False),
        sa.Column("manufacturer", sa.String(64), nullable=True),
        sa.Column("model", sa.String(64), nullable=True),
        sa.Column("firmware", sa.String(64), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("onvif_port", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("onvif_state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("has_credentials", sa.Boolean(), nullable=False),
        sa.Column("profiles", sa.JSON(), nullable=False),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("site_id", "camera_id", name="uq_site_camera"),
    )
    op.create_index("ix_site_camera_site_id", "site_camera", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_site_camera_site_id", "site_camera")
    op.drop_table("site_camera")
