"""site_link.instance_since, instance_offset, previous_offset: when the current agent
started sending, by the appliance's clock and corrected to ours — a message of the previous
agent sent before it is a late frame, not a twin

Revision ID: 0013_sync_instance_since
Revises: 0012_audit_chain
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_sync_instance_since"
down_revision: str | None = "0012_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("site_link") as batch:
        batch.add_column(sa.Column("instance_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("instance_offset", sa.Float(), nullable=True))
        batch.add_column(sa.Column("previous_offset", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site_link") as batch:
        batch.drop_column("previous_offset")
        batch.drop_column("instance_offset")
        batch.drop_column("instance_since")
