"""A data subject's deletion request reaching the channel's records: the referrals that
carry their full number lose the number and the name. The referral itself stays (its
state and reason are the broker's record and the attribution's history), with nobody
behind it. A masked referral (138****5678) cannot be told to be this person and is left.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from cloud.channel.history import REFERRAL_NAME_CONTEXT
from cloud.channel.models import Referral
from cloud.settings import CloudSettings


def erase_referrals(session: Session, settings: CloudSettings, *, phone_bidx: str,
                    project_ids: Collection[int], erased_mask: str) -> int:
    referrals = session.exec(select(Referral).where(
        col(Referral.phone_bidx) == phone_bidx,
        col(Referral.project_id).in_(project_ids))).all()
    for referral in referrals:
        referral.name_enc = settings.cipher.encrypt("", context=REFERRAL_NAME_CONTEXT)
        referral.phone_enc = referral.phone_bidx = None
        referral.phone34_bidx = referral.phone7_bidx = referral.phone_given = None
        referral.phone_masked = erased_mask
        session.add(referral)
    return len(referrals)
