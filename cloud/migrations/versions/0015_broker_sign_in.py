"""broker sign-in: WeChat identities, personal invite codes, who invited whom

Revision ID: 0015_broker_sign_in
Revises: 0014_channel
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_broker_sign_in"
down_revision: str | None = "0014_channel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("channel_broker") as batch:
        batch.add_column(sa.Column("invite_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("invited_by", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_channel_broker_invite_code", ["invite_code"])
        batch.create_foreign_key("fk_channel_broker_invited_by", "channel_broker",
                                 ["invited_by"], ["id"])
        batch.create_index("ix_channel_broker_invited_by", ["invited_by"])
    op.create_table(
        "channel_wechat_identity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("broker_id", sa.Integer(), sa.ForeignKey("channel_broker.id"),
                  nullable=False),
        sa.Column("app", sa.String(8), nullable=False),
        sa.Column("appid", sa.String(64), nullable=False),
        sa.Column("openid_enc", sa.String(200), nullable=False),
        sa.Column("openid_bidx", sa.String(64), nullable=False),
        sa.Column("unionid_enc", sa.String(200), nullable=True),
        sa.Column("unionid_bidx", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=False),
        sa.UniqueConstraint("appid", "openid_bidx", name="uq_channel_wechat_identity_openid"),
        sa.CheckConstraint("app IN ('web', 'mini')", name="ck_channel_wechat_identity_app"),
    )
    op.create_index("ix_channel_wechat_identity_broker_id", "channel_wechat_identity",
                    ["broker_id"])
    op.create_index("ix_channel_wechat_identity_unionid_bidx", "channel_wechat_identity",
                    ["unionid_bidx"])


def downgrade() -> None:
    op.drop_table("channel_wechat_identity")
    with op.batch_alter_table("channel_broker") as batch:
        batch.drop_index("ix_channel_broker_invited_by")
        batch.drop_constraint("fk_channel_broker_invited_by", type_="foreignkey")
        batch.drop_constraint("uq_channel_broker_invite_code", type_="unique")
        batch.drop_column("invited_by")
        batch.drop_column("invite_code")
