"""sales (customers, visits) and the cloud end of edge sync

Revision ID: 0003_sales_sync
Revises: 0002_identity_audit
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_sales_sync"
down_revision: str | None = "0002_identity_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("phone_enc", sa.String(200), nullable=False),
        sa.Column("phone_bidx", sa.String(64), nullable=False),
        sa.Column("phone34_bidx", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("name_enc", sa.String(300), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("visit_count", sa.Integer(), nullable=False),
        sa.Column("first_visit_at", TS, nullable=False),
        sa.Column("last_visit_at", TS, nullable=False),
        sa.Column("protection_until", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("project_id", "phone_bidx", name="uq_customer_project_phone"),
    )
    for col in ("project_id", "phone_bidx", "phone34_bidx", "owner_id"):
        op.create_index(f"ix_customer_{col}", "customer", [col])

    op.create_table(
        "visit",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("consultant_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(200), nullable=True),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("is_first_visit", sa.Boolean(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("edge_occurred_at", TS, nullable=False),
        sa.Column("time_corrected", sa.Boolean(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("customer_id", "visit_date", name="uq_visit_customer_day"),
    )
    for col in ("site_id", "project_id", "customer_id", "consultant_id", "visit_date",
                "occurred_at"):
        op.create_index(f"ix_visit_{col}", "visit", [col])

    op.create_table(
        "site_link",
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("key_enc", sa.String(200), nullable=False),
        sa.Column("mqtt_username", sa.String(64), nullable=False, unique=True),
        sa.Column("mqtt_password_hash", sa.String(200), nullable=False),
        sa.Column("last_applied_seq", sa.BigInteger(), nullable=False),
        sa.Column("highest_seen_seq", sa.BigInteger(), nullable=False),
        sa.Column("gap_since", TS, nullable=True),
        sa.Column("gap_alarm", sa.Boolean(), nullable=False),
        sa.Column("last_event_at", TS, nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("status_at", TS, nullable=True),
        sa.Column("edge_backlog", sa.Integer(), nullable=False),
        sa.Column("edge_last_acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("edge_oldest_unacked_at", TS, nullable=True),
        sa.Column("clock_skew_seconds", sa.Float(), nullable=True),
        sa.Column("clock_skew_alarm", sa.Boolean(), nullable=False),
        sa.Column("agent_version", sa.String(40), nullable=False),
        sa.Column("down_cursor_acked", sa.BigInteger(), nullable=False),
        sa.Column("feed_floor", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_from", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "sync_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("applied_at", TS, nullable=False),
        sa.UniqueConstraint("site_id", "seq", name="uq_sync_event_site_seq"),
    )
    op.create_table(
        "sync_pending",
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_table(
        "sync_rejection",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("topic_site_id", sa.String(64), nullable=True),
        sa.Column("claimed_site_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("payload_bytes", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_sync_rejection_received_at", "sync_rejection", ["received_at"])
    op.create_table(
        "down_feed",
        sa.Column("offset", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_down_feed_site_offset", "down_feed", ["site_id", "offset"])


def downgrade() -> None:
    for table in ("down_feed", "sync_rejection", "sync_pending", "sync_event", "site_link",
                  "visit", "customer"):
        op.drop_table(table)
