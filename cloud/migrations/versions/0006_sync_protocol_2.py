"""sync protocol 2: epochs, instances, content hashes, stall and restore state

Revision ID: 0006_sync_protocol_2
Revises: 0005_customer_last_effective
Create Date: 2026-11-27
"""
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sync_protocol_2"
down_revision: str | None = "0005_customer_last_effective"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _link_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("epoch", sa.String(36), nullable=True),
        sa.Column("reenrol_allowed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("refused_epoch", sa.String(36), nullable=True),
        sa.Column("epoch_refused_at", TS, nullable=True),
        sa.Column("instance", sa.String(36), nullable=True),
        sa.Column("previous_instance", sa.String(36), nullable=True),
        sa.Column("instance_switched_at", TS, nullable=True),
        sa.Column("twin_alarm", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("refused_instance", sa.String(36), nullable=True),
        sa.Column("conflict_alarm", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("cloud_behind_alarm", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("stalled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("edge_link", sa.String(20), nullable=False, server_default="ok"),
        sa.Column("edge_storage_full", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("edge_next_seq", sa.BigInteger(), nullable=False, server_default="1"),
        sa.Column("skew_sampled_at", TS, nullable=True),
        sa.Column("feed_generation", sa.String(64), nullable=False, server_default=""),
    ]


def upgrade() -> None:
    with op.batch_alter_table("site_link") as batch:
        for column in _link_columns():
            batch.add_column(column)
    # A generation per site, so an edge can tell this feed from one a restore brings back.
    links = sa.table("site_link", sa.column("site_id", sa.String), sa.column(
        "feed_generation", sa.String))
    conn = op.get_bind()
    for (site_id,) in conn.execute(sa.select(links.c.site_id)).all():
        conn.execute(links.update().where(links.c.site_id == site_id).values(
            feed_generation=uuid.uuid4().hex))
    with op.batch_alter_table("sync_event") as batch:
        # Events of the stream before epochs belong to the first epoch a site presents.
        batch.add_column(sa.Column("epoch", sa.String(36), nullable=False, server_default=""))
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))
        batch.drop_constraint("uq_sync_event_site_seq", type_="unique")
        batch.create_unique_constraint("uq_sync_event_site_epoch_seq",
                                       ["site_id", "epoch", "seq"])
    # Held envelopes are in the old wire format; every one of them is still queued on its
    # appliance, which sends it again.
    op.drop_table("sync_pending")
    op.create_table(
        "sync_pending",
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("epoch", sa.String(36), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_pending")
    op.create_table(
        "sync_pending",
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    with op.batch_alter_table("sync_event") as batch:
        batch.drop_constraint("uq_sync_event_site_epoch_seq", type_="unique")
        batch.create_unique_constraint("uq_sync_event_site_seq", ["site_id", "seq"])
        batch.drop_column("content_sha256")
        batch.drop_column("epoch")
    with op.batch_alter_table("site_link") as batch:
        for column in reversed(_link_columns()):
            batch.drop_column(column.name)
