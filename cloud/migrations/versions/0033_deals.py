"""deals: 认筹 / 认购 / 签约 documents with one live deal per unit (a partial unique
index), change requests, payments received, the opening-day call queue and settings

Revision ID: 0033_deals
Revises: 0032_visit_day_count
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_deals"
down_revision: str | None = "0032_visit_day_count"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE_UNIT = sa.text("unit_id IS NOT NULL AND status IN "
                     "('draft', 'submitted', 'approved', 'change_pending', 'overdue')")
_PENDING = sa.text("status = 'pending'")
_PICKED = sa.text("status = 'picked'")


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), sa.ForeignKey("app_user.id"), nullable=nullable)


def _fen(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "deal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("deal.id"), nullable=True),
        _text("kind", 12),
        _text("status", 16),
        sa.Column("unit_carried", sa.Boolean(), nullable=False),
        _text("buyer_name_enc", 300),
        _text("payment_method", 16),
        _fen("price_fen"), _fen("list_price_fen"), _fen("floor_price_fen"), _fen("amount_fen"),
        _fen("carried_fen"),
        _user("consultant_id", nullable=False),
        _user("created_by", nullable=False),
        _utc("created_at"),
        _utc("submitted_at", nullable=True),
        _user("approved_by"),
        _utc("approved_at", nullable=True),
        _text("decision_note", 200),
        _utc("contract_due_at", nullable=True),
        _utc("ended_at", nullable=True),
        _text("ended_reason", 200),
        _utc("updated_at"),
        sa.CheckConstraint("kind IN ('pledge', 'subscription', 'contract')", name="ck_deal_kind"),
        sa.CheckConstraint("price_fen >= 0 AND amount_fen >= 0", name="ck_deal_money"),
    )
    op.create_index("uq_deal_live_unit", "deal", ["unit_id"], unique=True,
                    postgresql_where=_LIVE_UNIT, sqlite_where=_LIVE_UNIT)
    op.create_index("ix_deal_project_status", "deal", ["project_id", "status", "id"])
    op.create_index("ix_deal_customer_id", "deal", ["customer_id"])
    op.create_index("ix_deal_parent_id", "deal", ["parent_id"])
    op.create_index("ix_deal_consultant_id", "deal", ["consultant_id"])
    op.create_table(
        "deal_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deal_id", sa.Integer(), sa.ForeignKey("deal.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        _text("kind", 8),
        sa.Column("new_unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=True),
        _text("new_buyer_name_enc", 300, nullable=True),
        _fen("new_price_fen", nullable=True),
        _text("reason", 200),
        _text("status", 10),
        _user("requested_by", nullable=False),
        _utc("requested_at"),
        _user("decided_by"),
        _utc("decided_at", nullable=True),
        _text("decision_note", 200),
        sa.CheckConstraint("kind IN ('cancel', 'swap', 'rename', 'price')",
                           name="ck_deal_change_kind"),
    )
    op.create_index("uq_deal_change_pending", "deal_change", ["deal_id"], unique=True,
                    postgresql_where=_PENDING, sqlite_where=_PENDING)
    op.create_index("ix_deal_change_deal_id", "deal_change", ["deal_id"])
    op.create_index("ix_deal_change_project_id", "deal_change", ["project_id"])
    op.create_table(
        "deal_payment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deal_id", sa.Integer(), sa.ForeignKey("deal.id"), nullable=False),
        _fen("amount_fen"),
        _text("source", 8),
        _utc("received_at"),
        _user("recorded_by", nullable=False),
        _text("note", 200),
        sa.CheckConstraint("amount_fen > 0", name="ck_deal_payment_amount"),
        sa.CheckConstraint("source IN ('buyer', 'bank')", name="ck_deal_payment_source"),
    )
    op.create_index("ix_deal_payment_deal_id", "deal_payment", ["deal_id"])
    op.create_table(
        "deal_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("pledge_id", sa.Integer(), sa.ForeignKey("deal.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("status", 10),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=True),
        _utc("called_at", nullable=True),
        _utc("hold_until", nullable=True),
    )
    op.create_index("uq_deal_call_pledge", "deal_call", ["pledge_id"], unique=True)
    op.create_index("ix_deal_call_queue", "deal_call", ["project_id", "status", "position"])
    op.create_index("uq_deal_call_held_unit", "deal_call", ["unit_id"], unique=True,
                    postgresql_where=_PICKED, sqlite_where=_PICKED)
    op.create_table(
        "deal_setting",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
        sa.Column("contract_days", sa.Integer(), nullable=False),
        sa.Column("pick_hold_minutes", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("deal_setting", "deal_call", "deal_payment", "deal_change", "deal"):
        op.drop_table(table)
