"""catalog: sites, projects, buildings, units

Revision ID: 0001_catalog
Revises:
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_catalog"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("city", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_project_site_id", "project", ["site_id"])
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


def downgrade() -> None:
    for table in ("unit", "building", "project", "site"):
        op.drop_table(table)
