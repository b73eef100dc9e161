"""Face data in the edge store: templates sealed at rest, the site's switch, and the log
of every access to face data (ADR 0047).

A template is the engine's float32 vector, sealed with the store's field cipher under its
own context, so a template cannot be opened as any other sealed field. The access log
stays on the appliance with the data it is about (templates never leave the site); each
read or change of face data writes one row in the transaction that does it.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

import numpy as np
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from edge_agent.faces.engine import Embedding
from edge_agent.faces.models import FaceAccess, FacePerson, FaceSettings, FaceTemplate
from shared.crypto import FieldCipher

TEMPLATE_CONTEXT = "face.template"
CROP_CONTEXT = "face.crop"
# Who touched face data: the pipeline, the kiosk, the field engineer, the cloud's
# down-feed, the retention job.
PIPELINE, KIOSK, ENGINEER, CLOUD, RETENTION = ("pipeline", "kiosk", "engineer", "cloud",
                                               "retention")


def seal(cipher: FieldCipher, embedding: Embedding) -> str:
    raw = np.asarray(embedding, dtype="<f4").tobytes()
    return cipher.encrypt(base64.b64encode(raw).decode(), context=TEMPLATE_CONTEXT)


def unseal(cipher: FieldCipher, sealed: str) -> Embedding:
    raw = base64.b64decode(cipher.decrypt(sealed, context=TEMPLATE_CONTEXT))
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def seal_crop(cipher: FieldCipher, jpeg: bytes) -> str:
    return cipher.encrypt(base64.b64encode(jpeg).decode(), context=CROP_CONTEXT)


async def audit(session: AsyncSession, now: datetime, actor: str, action: str,
                person_id: uuid.UUID | None = None, detail: str | None = None) -> None:
    session.add(FaceAccess(at=now, actor=actor[:64], action=action, person_id=person_id,
                           detail=detail[:200] if detail else None))
    await session.flush()


async def site_settings(session: AsyncSession) -> FaceSettings:
    row = await session.get(FaceSettings, 1)
    if row is None:  # the migration inserts it; its absence is a broken database
        raise RuntimeError("face_settings row missing")
    return row


async def load_templates(session: AsyncSession, cipher: FieldCipher, engine: str, *,
                         now: datetime, actor: str = PIPELINE
                         ) -> list[tuple[uuid.UUID, str, Embedding]]:
    """Every template of this engine with its identity's kind, opened (audited: the whole
    gallery is read once when matching starts)."""
    rows = (await session.exec(
        select(FaceTemplate.person_id, FacePerson.kind, FaceTemplate.embedding_enc)
        .join(FacePerson, col(FacePerson.id) == col(FaceTemplate.person_id))
        .where(col(FaceTemplate.engine) == engine)
        .order_by(col(FaceTemplate.id)))).all()
    await audit(session, now, actor, "gallery_loaded", detail=f"{len(rows)} templates, {engine}")
    return [(person_id, kind, unseal(cipher, sealed)) for person_id, kind, sealed in rows]


async def person_ids(session: AsyncSession) -> set[uuid.UUID]:
    return set((await session.exec(select(FacePerson.id))).all())
