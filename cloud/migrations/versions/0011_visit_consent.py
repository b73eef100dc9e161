"""visit: the visitor's consent to the notice, as the edge recorded it (issue #19 item 7)

Nullable: visits from before, and events queued by agents older than edge schema v9,
carry no consent record, and none is invented for them.

Revision ID: 0011_visit_consent
Revises: 0010_sec_admin_login_throttle
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_visit_consent"
down_revision: str | None = "0010_sec_admin_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("consent_notice_version", sa.String(32), nullable=True))
        batch.add_column(sa.Column("consent_method", sa.String(16), nullable=True))
        batch.add_column(sa.Column("consent_accepted_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("consent_recorded_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("consent_tablet", sa.String(64), nullable=True))
        batch.create_check_constraint(
            "ck_visit_consent_method",
            "consent_method IS NULL OR consent_method IN ('kiosk_screen', 'staff_confirmed')")


def downgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.drop_constraint("ck_visit_consent_method", type_="check")
        batch.drop_column("consent_tablet")
        batch.drop_column("consent_recorded_at")
        batch.drop_column("consent_accepted_at")
        batch.drop_column("consent_method")
        batch.drop_column("consent_notice_version")
