"""channel: the 公众号's cached access token, notifications pushed to WeChat as template
messages, share events by age for their retention, saved 多维查询 (issue #21, ADR 0043)

Revision ID: 0037_channel_rest
Revises: 0035_camera_health
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_channel_rest"
down_revision: str | None = "0035_camera_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
PENDING = sa.text("push_state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "channel_wechat_token",
        sa.Column("appid", sa.String(64), primary_key=True),
        sa.Column("token_enc", sa.String(800), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("refreshed_at", TS, nullable=False),
    )
    # Rows written before the push stay null: nobody is sent a backlog of old messages.
    with op.batch_alter_table("channel_notification") as batch:
        batch.add_column(sa.Column("push_state", sa.String(8), nullable=True))
        batch.add_column(sa.Column("push_tries", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("pushed_at", TS, nullable=True))
    op.create_index("ix_channel_notification_push_pending", "channel_notification", ["id"],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index("ix_channel_share_event_occurred_at", "channel_share_event",
                    ["occurred_at"])
    op.create_table(
        "channel_saved_query",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="uq_channel_saved_query_owner_name"),
    )
    op.create_index("ix_channel_saved_query_owner_id", "channel_saved_query", ["owner_id"])


def downgrade() -> None:
    op.drop_table("channel_saved_query")
    op.drop_index("ix_channel_share_event_occurred_at", "channel_share_event")
    op.drop_index("ix_channel_notification_push_pending", "channel_notification")
    with op.batch_alter_table("channel_notification") as batch:
        batch.drop_column("pushed_at")
        batch.drop_column("push_tries")
        batch.drop_column("push_state")
    op.drop_table("channel_wechat_token")
