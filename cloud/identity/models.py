"""Users, their roles and site scopes, server-side sessions and password history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from cloud.catalog.models import utc_column
from shared.timeutil import utcnow


def _user_fk() -> Column[int]:
    return Column(
        Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, nullable=False
    )


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("username", name="uq_app_user_username"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, description="login name, stored lower-case")
    password_hash: str = Field(max_length=255, description="argon2id")
    display_name: str = Field(max_length=64)
    is_active: bool = True
    scope_all: bool = Field(default=False, description="HQ: sees every site")
    must_change_password: bool = True
    password_changed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_login_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(sa_column=_user_fk())
    role: str = Field(primary_key=True, max_length=32, description="a code of ROLE_PERMISSIONS")


class UserScope(SQLModel, table=True):
    """Data scope: the sites whose business data the user may see (unless scope_all)."""

    __tablename__ = "user_scope"
    __table_args__ = (Index("ix_user_scope_site_id", "site_id"),)

    user_id: int = Field(sa_column=_user_fk())
    site_id: str = Field(
        sa_column=Column(String(32), ForeignKey("site.id"), primary_key=True, nullable=False)
    )


class AuthSession(SQLModel, table=True):
    """A login on one device. Only the refresh token's hash is stored; it rotates on use."""

    __tablename__ = "auth_session"
    __table_args__ = (
        UniqueConstraint("refresh_hash", name="uq_auth_session_refresh_hash"),
        Index("ix_auth_session_prev_refresh_hash", "prev_refresh_hash"),
    )

    id: str = Field(primary_key=True, max_length=32, description="the access token's sid")
    user_id: int = Field(foreign_key="app_user.id", index=True)
    refresh_hash: str = Field(max_length=64, description="sha256 of the current refresh token")
    prev_refresh_hash: str | None = Field(
        default=None, max_length=64, description="the rotated-out token: reuse means theft"
    )
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    last_used_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoke_reason: str | None = Field(default=None, max_length=32)


class PasswordHistory(SQLModel, table=True):
    __tablename__ = "password_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column())
