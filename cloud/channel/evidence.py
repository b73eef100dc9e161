"""Appeal evidence files (申诉材料): checked, stored under random keys, read back only
through the authorised route, every upload and download audited.

What a file is comes from its first bytes, never from its name or the declared type;
only images and PDF are kept. The broker's file name is a label: path parts and control
characters are dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel.appeal_models import Appeal, AppealEvidence
from cloud.channel.errors import (
    EvidenceLimitReached,
    EvidenceNotFound,
    EvidenceTooLarge,
    EvidenceTypeRefused,
)
from cloud.channel.evidence_store import EvidenceStore, new_key
from cloud.identity.deps import Principal

MAX_FILES_PER_APPEAL = 10
_FILENAME_MAX = 100
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def sniff(head: bytes) -> str | None:
    """The content type the bytes are, among those allowed; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


_EXTENSION = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
              "application/pdf": ".pdf"}


def clean_filename(raw: str | None, content_type: str) -> str:
    """A label safe to show and to put in a download header: the last path part, without
    control or reserved characters, with the extension of what the file really is."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[: _FILENAME_MAX - 8] or "申诉材料"
    return stem + _EXTENSION[content_type]


def too_large_text(max_bytes: int) -> str:
    size = (f"{max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024
            else f"{max_bytes // 1024} KB")
    return f"申诉材料不能超过 {size}"


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None


def add(session: Session, *, store: EvidenceStore, principal: Principal, appeal: Appeal,
        upload: Upload, max_bytes: int) -> AppealEvidence:
    if len(upload.data) > max_bytes:
        raise EvidenceTooLarge(too_large_text(max_bytes),
                               extra={"max_bytes": max_bytes})
    content_type = sniff(upload.data[:16])
    if content_type is None:
        raise EvidenceTypeRefused()
    count: int = session.exec(select(func.count()).select_from(AppealEvidence).where(
        AppealEvidence.appeal_id == appeal.id)).one()
    if count >= MAX_FILES_PER_APPEAL:
        raise EvidenceLimitReached(f"每条申诉最多 {MAX_FILES_PER_APPEAL} 个材料")
    key = new_key()
    store.put(key, upload.data, content_type)
    row = AppealEvidence(appeal_id=appeal.id or 0, object_key=key,
                         filename=clean_filename(upload.filename, content_type),
                         content_type=content_type, size=len(upload.data),
                         sha256=hashlib.sha256(upload.data).hexdigest(),
                         uploaded_by=principal.user_id)
    session.add(row)
    session.flush()
    audit_service.record(session, action="channel.appeal_evidence_upload", principal=principal,
                         object_type="channel_appeal", object_id=str(appeal.id),
                         detail={"evidence_id": row.id, "content_type": content_type,
                                 "size": row.size, "sha256": row.sha256})
    return row


def of_appeal(session: Session, appeal_id: int) -> list[AppealEvidence]:
    return list(session.exec(select(AppealEvidence).where(AppealEvidence.appeal_id == appeal_id)
                             .order_by(col(AppealEvidence.id))).all())


def read(session: Session, *, store: EvidenceStore, principal: Principal, appeal: Appeal,
         evidence_id: int) -> tuple[AppealEvidence, bytes]:
    row = session.get(AppealEvidence, evidence_id)
    if row is None or row.appeal_id != appeal.id:
        raise EvidenceNotFound()
    if row.object_key.startswith("erased/"):
        raise EvidenceNotFound("该材料已按个人信息删除请求删除")
    data = store.get(row.object_key)
    audit_service.record(session, action="channel.appeal_evidence_download",
                         principal=principal, object_type="channel_appeal",
                         object_id=str(appeal.id), detail={"evidence_id": row.id})
    return row, data
