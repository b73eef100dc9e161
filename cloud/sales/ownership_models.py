"""Ownership (客户归属) tables: a project's ownership settings, the ownership path of each
customer, 撞单 records and pick-up requests from the public pool (migration 0029)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow

# Customer.ownership: who may act on the customer, separate from the sales stage.
OWNED, OVERDUE, PUBLIC, INVALID = "owned", "overdue", "public", "invalid"
LAPSE_TO_POOL = "pool"  # else "warn": 逾期 only


class OwnershipSetting(SQLModel, table=True):
    """A project's numbers; a project without a row uses the rules page's defaults."""

    __tablename__ = "sales_ownership_setting"
    __table_args__ = (
        CheckConstraint("lapse_action IN ('pool', 'warn')", name="ck_ownership_lapse_action"),
    )

    project_id: int = Field(primary_key=True, foreign_key="project.id")
    protection_days: int = 30
    follow_up_days: int = 7
    warn_days: int = 2
    lapse_action: str = Field(default=LAPSE_TO_POOL, max_length=8)
    # None: the old owner never picks the customer back; N: after N days in the pool.
    reclaim_cooldown_days: int | None = None
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class OwnershipEvent(SQLModel, table=True):
    """One step of a customer's ownership path (归属路径), never updated."""

    __tablename__ = "sales_ownership_event"
    __table_args__ = (
        Index("ix_ownership_event_customer", "customer_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str = Field(max_length=20, description="see cloud.sales.ownership.PATH_KINDS")
    from_owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    to_owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_id: int | None = Field(default=None, foreign_key="app_user.id",
                                 description="None: the system (a visit, the pool job)")
    category: str | None = Field(default=None, max_length=16,
                                 description="what the customer was when allocated")
    reason: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class Collision(SQLModel, table=True):
    """撞单: a second consultant registered a customer someone else owns."""

    __tablename__ = "sales_collision"
    __table_args__ = (
        Index("ix_collision_project_open", "project_id", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    project_id: int = Field(foreign_key="project.id")
    visit_id: str = Field(foreign_key="visit.id", max_length=36, unique=True)
    owner_id: int = Field(foreign_key="app_user.id")
    consultant_id: int = Field(foreign_key="app_user.id")
    occurred_at: datetime = Field(sa_column=utc_column())
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")


class PickupRequest(SQLModel, table=True):
    """A consultant's request to take a customer from the public pool (领取申请)."""

    __tablename__ = "sales_pickup_request"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'refused')",
                        name="ck_pickup_status"),
        # One pending request per consultant and customer: a double click is one request.
        Index("uq_pickup_pending", "customer_id", "requester_id", unique=True,
              postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_pickup_project_status", "project_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    project_id: int = Field(foreign_key="project.id")
    requester_id: int = Field(foreign_key="app_user.id")
    status: str = Field(default="pending", max_length=10)
    reason: str | None = Field(default=None, max_length=200)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decision_note: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
