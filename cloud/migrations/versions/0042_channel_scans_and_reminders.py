"""channel: the referral risk scan's index, prospecting tasks' reminder marks, the
JS-SDK's jsapi_ticket beside the 公众号's token

The job channel.risk_referral_scan reads every project's referrals made since its last
run (ADR 0049); channel.task_reminders marks a task once its assignees were reminded
and once its shortfall was reported, so nobody is told twice. The jsapi_ticket signs the
broker H5's JS-SDK configuration; cached encrypted like the token.

Revision ID: 0042_channel_scans_and_reminders
Revises: 0041_faces
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042_channel_scans_and_reminders"
down_revision: str | None = "0041_faces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_channel_referral_created", "channel_referral", ["created_at"])
    with op.batch_alter_table("channel_prospecting_task") as batch:
        batch.add_column(sa.Column("reminded_at", TS, nullable=True))
        batch.add_column(sa.Column("end_reported_at", TS, nullable=True))
    with op.batch_alter_table("channel_wechat_token") as batch:
        batch.add_column(sa.Column("ticket_enc", sa.String(800), nullable=True))
        batch.add_column(sa.Column("ticket_expires_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_wechat_token") as batch:
        batch.drop_column("ticket_expires_at")
        batch.drop_column("ticket_enc")
    with op.batch_alter_table("channel_prospecting_task") as batch:
        batch.drop_column("end_reported_at")
        batch.drop_column("reminded_at")
    op.drop_index("ix_channel_referral_created", "channel_referral")
