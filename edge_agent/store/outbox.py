"""The up-stream outbox and the single sync_state row.

Rows are written in the same transaction as the fact they describe (`append`), with a
seq taken from sync_state.next_seq inside that transaction: a transaction that never
commits consumes no seq, so the stream stays gapless. The cloud's ack marks rows acked
(`release`); they stay for the retention window, so a cloud restored to an older backup
can be given them again (`rewind`), and only then go (`prune_acked`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.store.models.sync import OutboxRow, RejectedEvent, SyncState
from shared.crypto import FieldCipher
from shared.dbtypes import table_of

PAYLOAD_CONTEXT = "outbox.payload"


async def get_state(session: AsyncSession) -> SyncState:
    state = await session.get(SyncState, 1)
    if state is None:  # the migration inserts it; its absence is a broken database
        raise RuntimeError("sync_state row missing")
    return state


# Table-level statements, composed once: through the ORM, taking a seq and adding one row
# cost a third of a kiosk registration's store work (issue #24).
_SYNC_STATE = table_of(SyncState)
_TAKE_SEQ = (
    update(_SYNC_STATE)
    .where(_SYNC_STATE.c.id == 1)
    .values(next_seq=_SYNC_STATE.c.next_seq + 1)
    .returning(_SYNC_STATE.c.next_seq - 1)
)
_ADD_ROW = insert(table_of(OutboxRow))


async def allocate_seq(session: AsyncSession) -> int:
    """Take the next seq; only valid inside a write (IMMEDIATE) transaction."""
    return int((await session.execute(_TAKE_SEQ)).scalar_one())


async def append(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    event_type: str,
    event_id: uuid.UUID,
    occurred_at: datetime,
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Add an event to the outbox in the caller's transaction; returns its seq."""
    seq = await allocate_seq(session)
    sealed = cipher.encrypt(json.dumps(payload, ensure_ascii=False), context=PAYLOAD_CONTEXT)
    await session.execute(_ADD_ROW, {
        "seq": seq, "event_id": event_id, "type": event_type, "occurred_at": occurred_at,
        "payload_enc": sealed, "created_at": now, "acked_at": None})
    return seq


def open_payload(cipher: FieldCipher, row: OutboxRow) -> dict[str, Any]:
    data = json.loads(cipher.decrypt(row.payload_enc, context=PAYLOAD_CONTEXT))
    if not isinstance(data, dict):
        raise ValueError(f"outbox payload of seq {row.seq} is not an object")
    return data


async def rows_between(
    session: AsyncSession, first: int, last: int, limit: int
) -> list[OutboxRow]:
    """Outbox rows with first ≤ seq ≤ last, in seq order, at most `limit`."""
    result = await session.exec(
        select(OutboxRow)
        .where(col(OutboxRow.seq) >= first, col(OutboxRow.seq) <= last)
        .order_by(col(OutboxRow.seq))
        .limit(limit)
    )
    return list(result.all())


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest_created_at: datetime | None
    head_seq: int
    last_acked_seq: int
    last_ack_at: datetime | None
    down_cursor: int
    clock_skew_seconds: float | None


async def backlog(session: AsyncSession) -> Backlog:
    state = await get_state(session)
    waiting = col(OutboxRow.acked_at).is_(None)
    count = (await session.exec(select(func.count()).select_from(OutboxRow).where(waiting))).one()
    oldest_at = (
        await session.exec(
            select(OutboxRow.created_at).where(waiting).order_by(col(OutboxRow.seq)).limit(1)
        )
    ).first()
    return Backlog(
        count=int(count),
        oldest_created_at=oldest_at,
        head_seq=state.next_seq - 1,
        last_acked_seq=state.last_acked_seq,
        last_ack_at=state.last_ack_at,
        down_cursor=state.down_cursor,
        clock_skew_seconds=state.clock_skew_seconds,
    )


@dataclass(frozen=True)
class Rejection:
    seq: int
    reason: str


async def release(
    session: AsyncSession,
    acked_seq: int,
    *,
    now: datetime,
    rejections: list[Rejection],
) -> int | None:
    """Apply a cloud ack: keep rejected events aside, mark rows ≤ acked_seq acked, store
    the ack.

    Returns the number of rows released, or None (nothing done) when acked_seq is above the
    highest seq this database ever wrote.
    """
    if acked_seq > (await get_state(session)).next_seq - 1:
        return None
    for rejection in rejections:
        row = await session.get(OutboxRow, rejection.seq)
        if await session.get(RejectedEvent, rejection.seq) is not None:
            continue
        session.add(
            RejectedEvent(
                seq=rejection.seq,
                event_id=row.event_id if row else None,
                type=row.type if row else None,
                reason=rejection.reason[:200],
                payload_enc=row.payload_enc if row else None,
                rejected_at=now,
            )
        )
    released = await session.exec(
        update(OutboxRow)
        .where(col(OutboxRow.seq) <= acked_seq, col(OutboxRow.acked_at).is_(None))
        .values(acked_at=now)
    )
    await session.exec(
        update(SyncState)
        .where(col(SyncState.id) == 1, col(SyncState.last_acked_seq) < acked_seq)
        .values(last_acked_seq=acked_seq, last_ack_at=now)
    )
    return int(getattr(released, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Rewound:
    """The cloud stood at `position` below our stored ack: rows above it are waiting
    again; `missing` is how many of them the retention window had already pruned."""

    position: int
    waiting_again: int
    missing: int


async def rewind(session: AsyncSession, position: int) -> Rewound:
    """The cloud lost what it had acked above `position` (restored from a backup): mark
    those rows unacked again so they are sent once more, from position + 1."""
    state = await get_state(session)
    previous = state.last_acked_seq
    result = await session.exec(
        update(OutboxRow).where(col(OutboxRow.seq) > position).values(acked_at=None))
    kept = int(getattr(result, "rowcount", 0) or 0)
    present = (await session.exec(select(func.count()).select_from(OutboxRow).where(
        col(OutboxRow.seq) > position, col(OutboxRow.seq) <= previous))).one()
    await session.exec(
        update(SyncState).where(col(SyncState.id) == 1).values(last_acked_seq=position))
    return Rewound(position, kept, max(previous - position - int(present), 0))


async def prune_acked(session: AsyncSession, before: datetime) -> int:
    """Forget rows the cloud acked before `before` (the retention window's edge)."""
    result = await session.exec(delete(OutboxRow).where(col(OutboxRow.acked_at) < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def new_epoch(session: AsyncSession) -> uuid.UUID:
    """This store is not the one the cloud knows (found restored): a new identity, so none
    of its seqs is taken for one the cloud already has."""
    epoch = uuid.uuid4()
    await session.exec(update(SyncState).where(col(SyncState.id) == 1).values(epoch=epoch))
    return epoch


async def store_skew(session: AsyncSession, skew_seconds: float) -> None:
    await session.exec(
        update(SyncState).where(col(SyncState.id) == 1).values(clock_skew_seconds=skew_seconds)
    )
