"""Down-feed kinds that a domain applies itself (not a cached table the feed upserts):
the domain registers a handler for its kind, and the down-feed calls it with the item's
data in the batch's transaction, in feed order. An item whose data does not validate is
logged and skipped, as the table kinds' are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.crypto import FieldCipher


@dataclass(frozen=True)
class DownContext:
    now: datetime
    cipher: FieldCipher
    key: str  # the feed item's key


DownHandler = Callable[[AsyncSession, dict[str, Any], DownContext], Awaitable[None]]
HANDLERS: dict[str, DownHandler] = {}


def handles(kind: str) -> Callable[[DownHandler], DownHandler]:
    def register(handler: DownHandler) -> DownHandler:
        if kind in HANDLERS:
            raise ValueError(f"down-feed kind {kind!r} has a handler already")
        HANDLERS[kind] = handler
        return handler
    return register
