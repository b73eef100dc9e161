"""The base of the edge tables.

They live in their own registry and metadata, apart from the cloud's tables: the schema is
built by `edge_agent.store.migrations` (PRAGMA user_version), never by create_all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.dbtypes import UTCDateTime

edge_registry = registry()


def utc_field(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class EdgeModel(SQLModel, registry=edge_registry):
    """Base of the edge tables (separate metadata from the cloud's SQLModel tables)."""
