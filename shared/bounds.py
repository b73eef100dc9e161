"""Integers a request may carry, bounded to what the databases hold: past these, the
database driver fails (a 500) where the caller deserves a clear 422."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# PostgreSQL `integer` (every table's id; also what SQLite ids are compared against).
DB_INT_MAX = 2**31 - 1
# PostgreSQL `bigint`: audit row ids.
DB_BIGINT_MAX = 2**63 - 1

IdPath = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
