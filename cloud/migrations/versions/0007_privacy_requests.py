"""data-subject requests (个人信息主体请求): access, copy, correction, deletion

Revision ID: 0007_privacy_requests
Revises: 0006_sync_protocol_2
Create Date: 2026-11-27
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_privacy_requests"
down_revision: str | None = "0006_sync_protocol_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subject_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("phone_enc", sa.String(200), nullable=True),
        sa.Column("phone_bidx", sa.String(64), nullable=True),
        sa.Column("phone_masked", sa.String(11), nullable=False),
        sa.Column("detail_enc", sa.String(1500), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("handled_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("refusal_code", sa.String(32), nullable=True),
        sa.Column("resolution", sa.String(500), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('access', 'copy', 'correction', 'deletion')",
                           name="ck_subject_request_kind"),
        sa.CheckConstraint("status IN ('open', 'completed', 'refused')",
                           name="ck_subject_request_status"),
    )
    op.create_index("ix_subject_request_status", "subject_request", ["status"])
    op.create_index("ix_subject_request_phone_bidx", "subject_request", ["phone_bidx"])
    op.create_index("ix_subject_request_due_at", "subject_request", ["due_at"])


def downgrade() -> None:
    op.drop_table("subject_request")
