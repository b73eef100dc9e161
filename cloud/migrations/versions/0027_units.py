"""inventory: buildings and units with layout, area and prices, release batches, holds,
the 销控 log and the per-project grid version and colours

The walking skeleton's `building` and `unit` tables were never written by any code; they
are replaced (refused if a deployment put rows in them by hand).

Revision ID: 0027_units
Revises: 0026_referral_masked_index
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_units"
down_revision: str | None = "0026_referral_masked_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    bind = op.get_bind()
    for table in ("unit", "building"):
        if bind.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar():
            raise RuntimeError(f"table {table} has rows: move them to the new shape first")
    op.drop_table("unit")
    op.drop_table("building")
    op.create_table(
        "building",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        _utc("created_at"),
        sa.UniqueConstraint("project_id", "name", name="uq_building_project_name"),
    )
    op.create_index("ix_building_project_id", "building", ["project_id"])
    op.create_table(
        "release_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("unit_count", sa.Integer(), nullable=False),
        sa.Column("released_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        _utc("released_at"),
        sa.UniqueConstraint("project_id", "name", name="uq_release_batch_name"),
    )
    op.create_index("ix_release_batch_project_id", "release_batch", ["project_id"])
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("building_id", sa.Integer(), sa.ForeignKey("building.id"), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(20), nullable=False),
        sa.Column("layout", sa.String(30), nullable=False),
        sa.Column("area_centi", sa.Integer(), nullable=False),
        sa.Column("list_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("floor_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("release_batch.id"), nullable=True),
        _utc("hold_until", nullable=True),
        sa.Column("control_reason", sa.String(200), nullable=False),
        _utc("updated_at"),
        sa.UniqueConstraint("building_id", "room", name="uq_unit_building_room"),
        sa.CheckConstraint("floor_price_fen <= list_price_fen", name="ck_unit_floor_price"),
    )
    op.create_index("ix_unit_project_id", "unit", ["project_id"])
    op.create_index("ix_unit_building_id", "unit", ["building_id"])
    op.create_index("ix_unit_batch_id", "unit", ["batch_id"])
    op.create_index("ix_unit_grid", "unit", ["project_id", "building_id", "floor"])
    op.create_table(
        "unit_hold",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        _utc("requested_at"),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        _utc("decided_at", nullable=True),
        sa.Column("decision_note", sa.String(200), nullable=False),
    )
    op.create_index("ix_unit_hold_unit_id", "unit_hold", ["unit_id"])
    op.create_index("ix_unit_hold_project_status", "unit_hold", ["project_id", "status"])
    op.create_table(
        "unit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        _utc("at"),
    )
    op.create_index("ix_unit_log_unit_id", "unit_log", ["unit_id"])
    op.create_index("ix_unit_log_project_id", "unit_log", ["project_id", "id"])
    op.create_table(
        "inventory_project",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("colours", sa.JSON(), nullable=False),
        sa.Column("reserve_max_days", sa.Integer(), nullable=False),
        sa.Column("pledge_unreleased", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    for table in ("inventory_project", "unit_log", "unit_hold", "unit", "release_batch",
                  "building"):
        op.drop_table(table)
    op.create_table(
        "building",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_building_project_name"),
    )
    op.create_index("ix_building_project_id", "building", ["project_id"])
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("building_id", sa.Integer(), sa.ForeignKey("building.id"), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("area_sqm_centi", sa.Integer(), nullable=False),
        sa.Column("list_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.UniqueConstraint("building_id", "code", name="uq_unit_building_code"),
    )
    op.create_index("ix_unit_project_id", "unit", ["project_id"])
    op.create_index("ix_unit_building_id", "unit", ["building_id"])
