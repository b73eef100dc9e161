"""sales: customer ownership — ownership state, the path, 撞单, pool pick-ups, settings

Revision ID: 0029_ownership
Revises: 0028_reception
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_ownership"
down_revision: str | None = "0028_reception"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending'")


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), sa.ForeignKey("app_user.id"), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("ownership", sa.String(length=10), nullable=False,
                                   server_default="owned"))
        batch.add_column(_utc("owned_since", nullable=True))
        batch.add_column(sa.Column("previous_owner_id", sa.Integer(), nullable=True))
        batch.add_column(_utc("lapsed_at", nullable=True))
        batch.add_column(_utc("warned_for", nullable=True))
        batch.create_foreign_key("fk_customer_previous_owner", "app_user",
                                 ["previous_owner_id"], ["id"])
    # Every owner so far was the first receiver: the clock starts at the first visit.
    op.execute("UPDATE customer SET owned_since = first_visit_at WHERE owner_id IS NOT NULL")
    op.create_index("ix_customer_project_ownership", "customer", ["project_id", "ownership"])

    op.create_table(
        "sales_ownership_setting",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), primary_key=True),
        sa.Column("protection_days", sa.Integer(), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=False),
        sa.Column("warn_days", sa.Integer(), nullable=False),
        sa.Column("lapse_action", sa.String(length=8), nullable=False),
        sa.Column("reclaim_cooldown_days", sa.Integer(), nullable=True),
        _user("updated_by"),
        _utc("updated_at"),
        sa.CheckConstraint("lapse_action IN ('pool', 'warn')",
                           name="ck_ownership_lapse_action"),
    )
    op.create_table(
        "sales_ownership_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        _user("from_owner_id"),
        _user("to_owner_id"),
        _user("actor_id"),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        _utc("at"),
    )
    op.create_index("ix_ownership_event_customer", "sales_ownership_event",
                    ["customer_id", "id"])
    op.create_index("ix_sales_ownership_event_project_id", "sales_ownership_event",
                    ["project_id"])
    op.create_table(
        "sales_collision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("visit_id", sa.String(length=36), sa.ForeignKey("visit.id"),
                  nullable=False),
        _user("owner_id", nullable=False),
        _user("consultant_id", nullable=False),
        _utc("occurred_at"),
        _utc("resolved_at", nullable=True),
        _user("resolved_by"),
        sa.UniqueConstraint("visit_id"),
    )
    op.create_index("ix_sales_collision_customer_id", "sales_collision", ["customer_id"])
    op.create_index("ix_collision_project_open", "sales_collision",
                    ["project_id", "resolved_at"])
    op.create_table(
        "sales_pickup_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        _user("requester_id", nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        _user("decided_by"),
        _utc("decided_at", nullable=True),
        sa.Column("decision_note", sa.String(length=200), nullable=True),
        _utc("created_at"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused')",
                           name="ck_pickup_status"),
    )
    op.create_index("uq_pickup_pending", "sales_pickup_request",
                    ["customer_id", "requester_id"], unique=True,
                    postgresql_where=_PENDING, sqlite_where=_PENDING)
    op.create_index("ix_pickup_project_status", "sales_pickup_request",
                    ["project_id", "status"])


def downgrade() -> None:
    for table in ("sales_pickup_request", "sales_collision", "sales_ownership_event",
                  "sales_ownership_setting"):
        op.drop_table(table)
    op.drop_index("ix_customer_project_ownership", "customer")
    with op.batch_alter_table("customer") as batch:
        batch.drop_constraint("fk_customer_previous_owner", type_="foreignkey")
        for column in ("warned_for", "lapsed_at", "previous_owner_id", "owned_since",
                       "ownership"):
            batch.drop_column(column)
