"""The incoming-call register (来电登记, ADR 0056) in the cloud: its encryption contexts
and what a deletion request does to it."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlmodel import Session, col, select

from cloud.reception.models import CallRecord
from cloud.settings import CloudSettings

PHONE_CONTEXT = "call.phone"
NAME_CONTEXT = "call.name"


def erase_calls(session: Session, settings: CloudSettings, *, phone_bidx: str,
                project_ids: Collection[int], erased_mask: str, erased_prefix: str) -> int:
    """A deletion request: the subject's calls lose number and name (each index a unique
    tombstone, as an erased customer's); the call stays, a count of 来电 with nobody
    behind it."""
    found = session.exec(select(CallRecord).where(
        CallRecord.phone_bidx == phone_bidx, col(CallRecord.project_id).in_(project_ids))).all()
    for call in found:
        call.phone_enc = settings.cipher.encrypt("", context=PHONE_CONTEXT)
        call.phone_bidx = f"{erased_prefix}{uuid.uuid4().hex}"
        call.phone_masked, call.name_enc = erased_mask, None
        session.add(call)
    return len(found)
