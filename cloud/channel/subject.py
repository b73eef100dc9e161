"""A data subject's referrals and leads: what an access request shows of them, and what
a deletion request leaves.

Only referrals that carry the subject's full number are theirs for certain; a masked one
(138****5678) cannot be told to be this person, so it is neither shown nor erased.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.channel import feed_items
from cloud.channel.appeal_models import Appeal, AppealEvidence
from cloud.channel.evidence_store import EvidenceStore
from cloud.channel.history import REFERRAL_NAME_CONTEXT, REFERRAL_PHONE_CONTEXT
from cloud.channel.lead_models import Lead
from cloud.channel.leads import LEAD_NAME_CONTEXT, LEAD_PHONE_CONTEXT
from cloud.channel.models import Agency, Broker, Referral
from cloud.channel.qr import LIVE_STATES
from cloud.settings import CloudSettings


@dataclass(frozen=True)
class SubjectReferral:
    referral: Referral
    name: str
    phone: str
    agency_name: str | None  # who received the subject's data (an individual referrer: None)


def referrals_of(session: Session, settings: CloudSettings, *, phone_bidx: str,
                 project_ids: Collection[int]) -> list[SubjectReferral]:
    rows = session.exec(
        select(Referral, Agency)
        .join(Agency, col(Agency.id) == col(Referral.agency_id), isouter=True)
        .where(col(Referral.phone_bidx) == phone_bidx,
               col(Referral.project_id).in_(project_ids))
        .order_by(col(Referral.created_at), col(Referral.id))).all()
    return [SubjectReferral(
        referral, settings.cipher.decrypt(referral.name_enc, context=REFERRAL_NAME_CONTEXT),
        settings.cipher.decrypt(referral.phone_enc or "", context=REFERRAL_PHONE_CONTEXT),
        agency.name if agency else None) for referral, agency in rows]


@dataclass(frozen=True)
class SubjectLead:
    lead: Lead
    name: str
    phone: str
    agency_name: str | None  # the agency of the broker whose link it came through


def leads_of(session: Session, settings: CloudSettings, *, phone_bidx: str,
             project_ids: Collection[int]) -> list[SubjectLead]:
    """The forms the subject left on brokers' share pages (线索), with the consent given."""
    rows = session.exec(
        select(Lead, Agency)
        .join(Broker, col(Broker.id) == col(Lead.broker_id))
        .join(Agency, col(Agency.id) == col(Broker.agency_id), isouter=True)
        .where(col(Lead.phone_bidx) == phone_bidx, col(Lead.project_id).in_(project_ids))
        .order_by(col(Lead.created_at), col(Lead.id))).all()
    return [SubjectLead(
        lead, settings.cipher.decrypt(lead.name_enc, context=LEAD_NAME_CONTEXT),
        settings.cipher.decrypt(lead.phone_enc, context=LEAD_PHONE_CONTEXT),
        agency.name if agency else None) for lead, agency in rows]


def erase_referrals(session: Session, settings: CloudSettings, *, phone_bidx: str,
                    project_ids: Collection[int], erased_mask: str) -> int:
    """The referrals lose the number and the name. The referral itself stays (its state
    and reason are the broker's record and the attribution's history), with nobody
    behind it."""
    referrals = session.exec(select(Referral).where(
        col(Referral.phone_bidx) == phone_bidx,
        col(Referral.project_id).in_(project_ids))).all()
    for referral in referrals:
        referral.name_enc = settings.cipher.encrypt("", context=REFERRAL_NAME_CONTEXT)
        referral.phone_enc = referral.phone_bidx = None
        referral.phone34_bidx = referral.phone7_bidx = referral.phone_given = None
        referral.phone_masked = erased_mask
        session.add(referral)
    # The appliance may hold the live ones' masked numbers: it is told to blank them.
    feed_items.announce_referrals(
        session, settings, [r for r in referrals if r.state in LIVE_STATES])
    return len(referrals)


# What an erased appeal keeps in place of the broker's words and file names.
ERASED_TEXT = "（已按个人信息删除请求清除）"
ERASED_FILENAME = "已删除"


def erase_evidence(session: Session, store: EvidenceStore, *, phone_bidx: str,
                   project_ids: Collection[int]) -> int:
    """The appeals of the subject's referrals lose their evidence files — deleted from
    the store first (an unreachable store fails the erasure, which can be retried; a
    delete of a file already gone succeeds) — and the broker's reason. The rows stay as
    the appeal's record that files existed (type, upload time), with nothing of the file:
    no key, name, size or digest. Call before erase_referrals, which drops the index."""
    rows = session.exec(
        select(AppealEvidence, Appeal)
        .join(Appeal, col(Appeal.id) == col(AppealEvidence.appeal_id))
        .join(Referral, col(Referral.id) == col(Appeal.referral_id))
        .where(col(Referral.phone_bidx) == phone_bidx,
               col(Referral.project_id).in_(project_ids))
        .order_by(col(AppealEvidence.id))).all()
    erased = 0
    for row, _ in rows:
        if evidence_erased(row):
            continue
        store.delete(row.object_key)
        row.object_key = f"erased/{row.id}"
        row.filename, row.size, row.sha256 = ERASED_FILENAME, 0, ""
        session.add(row)
        erased += 1
    for appeal in session.exec(select(Appeal).join(
            Referral, col(Referral.id) == col(Appeal.referral_id)).where(
            col(Referral.phone_bidx) == phone_bidx,
            col(Referral.project_id).in_(project_ids))).all():
        appeal.reason = ERASED_TEXT
        session.add(appeal)
    return erased


def evidence_erased(row: AppealEvidence) -> bool:
    return row.object_key.startswith("erased/")
