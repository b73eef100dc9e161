"""A user's saved 多维查询 definitions (ADR 0028): the query without its page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow


class SavedQuery(SQLModel, table=True):
    __tablename__ = "channel_saved_query"
    __table_args__ = (UniqueConstraint("owner_id", "name",
                                       name="uq_channel_saved_query_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=40)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
