"""The site as the cloud feeds it: its projects, its roster, the sessions it revoked; and
when each edge token was last used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field

from edge_agent.store.models.base import EdgeModel, utc_field
from shared.dbtypes import empty_list


class Project(EdgeModel, table=True):
    __tablename__ = "project"

    id: int = Field(primary_key=True)
    name: str = Field(max_length=100)
    city: str | None = Field(default=None, max_length=50)
    active: bool = True
    updated_at: datetime = utc_field()


class Consultant(EdgeModel, table=True):
    """The site's roster as the cloud feeds it (kind `consultant`): consultants, sales
    managers and sales directors, each with their roles. An active entry lets one sign in
    to the PWA; the rota and every pick of who receives take the consultants only
    (edge_agent.rota.queue), a call's answerer site staff only (shared.roster)."""

    __tablename__ = "consultant"

    id: int = Field(primary_key=True)
    name: str = Field(max_length=50)
    active: bool = True
    roles: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = utc_field()


class TokenRevocation(EdgeModel, table=True):
    """The cloud's revocation list (down-feed kind `revocation`): `session:{sid}` ends the
    edge tokens of one cloud session, `user:{id}` every token of the user issued at or
    before `revoked_at`."""

    __tablename__ = "token_revocation"

    key: str = Field(primary_key=True, max_length=128)
    user_id: int
    session_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=32)
    revoked_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class StaffActivity(EdgeModel, table=True):
    """When each edge token was last used for a user action: the idle timeout."""

    __tablename__ = "staff_activity"

    token_id: str = Field(primary_key=True, max_length=64)
    user_id: int
    last_active_at: datetime = utc_field()
    expires_at: datetime = utc_field()
