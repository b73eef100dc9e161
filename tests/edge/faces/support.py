"""Helpers of the face tests: the outbox's face events, a down-feed batch, the switch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store, outbox
from edge_agent.store.models.sync import OutboxRow
from edge_agent.sync.downlink import apply_batch
from shared.envelope import DownBatch, DownItem
from shared.faces import FACE_ERASE, SITE_FACES
from shared.timeutil import utcnow

NOTICE = "faces-2026-v1"


async def face_events(store: Store, settings: EdgeSettings,
                      prefix: str = "face.") -> list[tuple[str, dict[str, Any]]]:
    async def tx(session: AsyncSession) -> list[OutboxRow]:
        return list((await session.exec(select(OutboxRow).where(
            col(OutboxRow.type).startswith(prefix)).order_by(col(OutboxRow.seq)))).all())
    return [(r.type, outbox.open_payload(settings.cipher, r)) for r in await store.read(tx)]


async def feed(store: Store, settings: EdgeSettings, *items: tuple[str, str, dict[str, Any]],
               cursor: int = 0) -> None:
    batch = DownBatch(site_id=settings.site_id, generation="g", cursor=cursor,
                      next_cursor=cursor + len(items),
                      items=[DownItem(offset=cursor + i + 1, kind=k, key=key, data=data)
                             for i, (k, key, data) in enumerate(items)])
    await store.write(apply_batch, batch, utcnow(), None, settings.cipher)


def switch(enabled: bool, at: datetime, crop_days: int = 0) -> tuple[str, str, dict[str, Any]]:
    data: dict[str, Any] = {"enabled": enabled, "changed_at": at.isoformat(),
                            "crop_retention_days": crop_days}
    if enabled:
        data |= {"signage_text": "本区域使用人脸识别", "notice_version": NOTICE}
    return SITE_FACES, "site", data


def erase(request_id: str, refs: list[str], at: datetime) -> tuple[str, str, dict[str, Any]]:
    return FACE_ERASE, request_id, {"request_id": request_id, "customer_id": 42,
                                    "person_refs": refs, "requested_at": at.isoformat()}


def face(seed: int, size: int = 128) -> np.ndarray:
    """A stand-in embedding: seeds far apart are different people."""
    return np.random.default_rng(seed).normal(size=size).astype(np.float32)


def near(vector: np.ndarray, seed: int, noise: float = 0.05) -> np.ndarray:
    jitter = np.random.default_rng(seed).normal(size=vector.shape).astype(np.float32)
    return np.asarray(vector + noise * np.linalg.norm(vector) / np.sqrt(vector.size) * jitter,
                      dtype=np.float32)
