"""camera capture health on each site's camera row

The appliance's video readers report their health (`camera.health`, issue #23 item 3,
ADR 0040): state, measured frame rate, last frame, errors — counts and times only.

Revision ID: 0035_camera_health
Revises: 0033_deals
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0035_camera_health"
down_revision: str | None = "0033_deals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("site_camera") as batch:
        batch.add_column(sa.Column("capture_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sample_fps", sa.Float(), nullable=True))
        batch.add_column(sa.Column("capture_fps", sa.Float(), nullable=True))
        batch.add_column(sa.Column("captured_frames", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_frame_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("capture_errors", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("capture_error", sa.String(200), nullable=True))
        batch.add_column(sa.Column("capture_error_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("health_reported_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site_camera") as batch:
        for name in ("health_reported_at", "capture_error_at", "capture_error",
                     "capture_errors", "last_frame_at", "captured_frames", "capture_fps",
                     "sample_fps", "capture_state"):
            batch.drop_column(name)
