"""The cloud's face orders through the down-feed (ADR 0047): `site.faces` switches face
use for the site (the service follows within seconds; switched off or crops off, the
crops go at once), `face.erase` deletes the named identities now and answers each with
`face.erased`."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces import erasure, records
from edge_agent.sync.down_kinds import DownContext, handles
from shared.faces import FACE_ERASE, SITE_FACES, FaceErase, SiteFaces


@handles(SITE_FACES)
async def apply_site_faces(session: AsyncSession, data: dict[str, Any],
                           context: DownContext) -> None:
    order = SiteFaces.model_validate(data)
    row = await records.site_settings(session)
    if row.changed_at is not None and order.changed_at < row.changed_at:
        return  # an older switch replayed after a newer one
    row.enabled, row.changed_at = order.enabled, order.changed_at
    row.signage_text, row.notice_version = order.signage_text, order.notice_version
    row.crop_retention_days = order.crop_retention_days
    session.add(row)
    if not order.enabled or order.crop_retention_days == 0:
        await erasure.drop_crops(session)
    await records.audit(session, context.now, records.CLOUD, "site_switched",
                        detail=f"enabled={order.enabled}, notice {order.notice_version}")


@handles(FACE_ERASE)
async def apply_face_erase(session: AsyncSession, data: dict[str, Any],
                           context: DownContext) -> None:
    order = FaceErase.model_validate(data)
    await erasure.erase_people(session, context.cipher, order.person_refs, reason="request",
                               actor=records.CLOUD, now=context.now,
                               request_id=order.request_id)
