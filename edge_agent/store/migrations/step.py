"""What a version is made of: DDL text, or now and then a data step in Python."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from shared.crypto import FieldCipher

Step = str | Callable[[Connection, FieldCipher | None], None]


class MigrationNeedsKeys(RuntimeError):
    """A step encrypts stored data and was run without the agent's keys."""
