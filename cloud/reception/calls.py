"""The incoming-call register (来电登记, ADR 0056) in the cloud: its encryption contexts,
what an access request shows of it and what a deletion request does to it."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.reception.models import CallRecord
from cloud.sales.customer_feed import erased_feed_item
from cloud.settings import CloudSettings
from cloud.sync.feed import append
from cloud.sync.keys import site_key
from cloud.sync.models import SiteLink

PHONE_CONTEXT = "call.phone"
NAME_CONTEXT = "call.name"


@dataclass(frozen=True)
class SubjectCall:
    call: CallRecord
    phone: str
    name: str | None


def calls_of(session: Session, settings: CloudSettings, *, phone_bidx: str,
             project_ids: Collection[int]) -> list[SubjectCall]:
    """The calls the subject made to these projects, oldest first, number and name
    decrypted (an erased call's index is a tombstone: it is no longer theirs)."""
    found = session.exec(select(CallRecord).where(
        CallRecord.phone_bidx == phone_bidx, col(CallRecord.project_id).in_(project_ids))
        .order_by(col(CallRecord.occurred_at), col(CallRecord.id))).all()
    return [SubjectCall(
        call, settings.cipher.decrypt(call.phone_enc, context=PHONE_CONTEXT),
        settings.cipher.decrypt(call.name_enc, context=NAME_CONTEXT) if call.name_enc else None)
        for call in found]


def erase_calls(session: Session, settings: CloudSettings, *, phone_bidx: str,
                project_ids: Collection[int], announced: Collection[int], erased_mask: str,
                erased_prefix: str) -> int:
    """A deletion request: the subject's calls lose number and name (each index a unique
    tombstone, as an erased customer's); the call stays, a count of 来电 with nobody
    behind it. The appliances of projects where the caller is no customer (`announced`:
    the projects already told through the customer) are told as for a customer, so
    their copies of the calls go too."""
    found = session.exec(select(CallRecord).where(
        CallRecord.phone_bidx == phone_bidx, col(CallRecord.project_id).in_(project_ids))).all()
    told = set(announced)
    for call in found:
        if call.project_id not in told:
            told.add(call.project_id)
            _announce(session, settings, call)
        call.phone_enc = settings.cipher.encrypt("", context=PHONE_CONTEXT)
        call.phone_bidx = f"{erased_prefix}{uuid.uuid4().hex}"
        call.phone_masked, call.name_enc = erased_mask, None
        session.add(call)
    return len(found)


def _announce(session: Session, settings: CloudSettings, call: CallRecord) -> None:
    project = session.get(Project, call.project_id)
    link = session.get(SiteLink, project.site_id) if project is not None else None
    if link is None:
        return
    key, data = erased_feed_item(
        call.project_id, phone=settings.cipher.decrypt(call.phone_enc, context=PHONE_CONTEXT),
        site_key=site_key(settings, link))
    append(session, link.site_id, "customer", key, data)
