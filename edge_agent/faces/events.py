"""Face events into the outbox, in the caller's transaction (ids and times only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.store import outbox
from shared.crypto import FieldCipher


async def emit(session: AsyncSession, cipher: FieldCipher, event_type: str,
               event: BaseModel, now: datetime) -> None:
    await outbox.append(session, cipher, event_type=event_type, event_id=uuid.uuid4(),
                        occurred_at=now, payload=event.model_dump(mode="json"), now=now)
