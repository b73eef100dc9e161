"""扫码带看 codes issued at the cloud: the broker's signed, expiring, single-use QR token
for one of their live referrals (ADR 0024; shared/qr.py is the format)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel import history
from cloud.channel.errors import ReferralNotFound, ReferralNotLive
from cloud.channel.models import Broker, Referral
from cloud.identity.deps import Principal
from cloud.settings import CloudSettings
from cloud.sync.keys import site_key
from cloud.sync.models import SiteLink
from shared import qr
from shared.attribution.masks import parse_phone, visible
from shared.crypto import BlindIndex
from shared.timeutil import utcnow

LIVE_STATES = ("pending", "confirmed")
_KEY34 = frozenset({0, 1, 2, 7, 8, 9, 10})


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime


def signing_key(settings: CloudSettings) -> tuple[str, Ed25519PrivateKey]:
    kid, seed = next(iter(settings.qr_keys.items()))
    return kid, qr.private_key(seed)


def public_keys(settings: CloudSettings) -> dict[str, str]:
    """Every key of the ring by id (the retired ones verify codes not yet expired)."""
    return {kid: qr.public_key_text(qr.private_key(seed))
            for kid, seed in settings.qr_keys.items()}


def site_index(session: Session, settings: CloudSettings, project_id: int
               ) -> BlindIndex | None:
    """The blind index keyed with the project's site key (what its appliance computes)."""
    project = session.get(Project, project_id)
    link = session.get(SiteLink, project.site_id) if project is not None else None
    return BlindIndex(site_key(settings, link)) if link is not None else None


def is_erased(row: Referral) -> bool:
    """The data subject had the referral's number deleted (cloud/channel/erasure.py)."""
    return row.phone_enc is None and row.phone_given is None


def referral_phone_key(settings: CloudSettings, index: BlindIndex, row: Referral) -> str | None:
    """`pk` of the referral's number: its 3+4 form under the site's key; None for a mask
    that hides those digits (first 7 / first 9): the cloud's engine then judges the number."""
    if is_erased(row):
        return None
    given = parse_phone(history.phone_of(settings, row))
    if not visible(given) >= _KEY34:
        return None
    return qr.phone_key(index, given[:3] + "****" + given[7:])


def is_live(row: Referral, now: datetime) -> bool:
    return not is_erased(row) and row.state in LIVE_STATES and (row.protection_until is None
                                         or row.protection_until > now)


def issue(session: Session, *, settings: CloudSettings, principal: Principal,
          broker: Broker | None, referral_id: int) -> Issued:
    row = session.exec(select(Referral).where(Referral.id == referral_id)).first()
    # Another broker's referral answers as if it did not exist.
    if row is None or broker is None or row.broker_id != broker.id:
        raise ReferralNotFound()
    now = utcnow()
    if not is_live(row, now):
        raise ReferralNotLive(extra={"state": row.state})
    index = site_index(session, settings, row.project_id)
    kid, key = signing_key(settings)
    expires = now + timedelta(minutes=settings.qr_ttl_minutes)
    claims = qr.QrClaims(
        kid=kid, rid=row.id or 0, bid=row.broker_id, pid=row.project_id,
        pk=referral_phone_key(settings, index, row) if index is not None else None,
        n=qr.new_nonce(), exp=int(expires.timestamp()))
    audit_service.record(
        session, action="channel.qr_issue", principal=principal,
        object_type="channel_referral", object_id=str(row.id),
        detail={"kid": kid, "nonce": claims.n, "expires_at": claims.expires_at.isoformat()})
    return Issued(token=qr.sign(claims, key), expires_at=claims.expires_at)
