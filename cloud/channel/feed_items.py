"""What the channel domain states to each site's appliance through the down-feed, so it
can verify 扫码带看 codes and answer provisionally while offline (ADR 0024):

- `qr_key`: the public keys of the QR signing ring (no private key leaves the cloud);
- `channel_rules`: every rule version of the site's projects;
- `referral`: the live referrals of the site's projects in masked form — the shown
  number, the site-keyed 3+4 key, the broker, state and window end; no name, no full
  number. One decided otherwise, or erased, is re-sent with `active: false`. The broker
  is named masked (surname, the phone as 138****5678, the agency) so a receptionist can
  pick the one who brought a visitor without a code (ADR 0030).

Keys and rule versions are derived like the roster (cloud.sync.feed.DerivedKind):
compared on every request. Referrals are appended when they change (ADR 0058): every
writer of a referral's state, window or number calls `announce_referrals` in its
transaction, and a snapshot states the live ones. A window that runs out appends
nothing: the item carries `protection_until` and the appliance reads a referral past it
as not live.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from cloud.catalog.models import Project
from cloud.channel import qr, rules
from cloud.channel.models import Agency, Broker, Referral
from cloud.identity.models import User
from cloud.settings import CloudSettings
from cloud.sync.feed import DerivedKind, append, register_kind
from cloud.sync.keys import site_key
from cloud.sync.models import SiteLink
from shared.crypto import BlindIndex
from shared.names import mask_name
from shared.timeutil import iso, utcnow


def _project_ids(session: Session, site_id: str) -> list[int]:
    return [p for p in session.exec(select(Project.id).where(Project.site_id == site_id))
            if p is not None]


def qr_keys(session: Session, settings: CloudSettings, link: SiteLink
            ) -> dict[str, dict[str, Any]]:
    return {kid: {"kid": kid, "public_key": key}
            for kid, key in qr.public_keys(settings).items()}


def rule_versions(session: Session, settings: CloudSettings, link: SiteLink
                  ) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    for project_id in _project_ids(session, link.site_id):
        for version in rules.versions(session, project_id):
            items[f"{project_id}:{version.version}"] = {
                "project_id": project_id, "version": version.version,
                "effective_from": iso(version.effective_from),
                "rules": version.model_dump(mode="json", exclude={
                    "version", "effective_from", "project_id"})}
    return items


def live_referrals(session: Session, settings: CloudSettings, link: SiteLink
                   ) -> dict[str, dict[str, Any]]:
    """What a snapshot states: the site's live referrals (window not over)."""
    projects = _project_ids(session, link.site_id)
    if not projects:
        return {}
    rows = session.exec(select(Referral).where(
        col(Referral.project_id).in_(projects), col(Referral.state).in_(qr.LIVE_STATES),
        or_(col(Referral.protection_until).is_(None),
            col(Referral.protection_until) > utcnow()),
    ).order_by(col(Referral.id))).all()
    return _items(session, settings, link, rows)


def _items(session: Session, settings: CloudSettings, link: SiteLink,
           rows: Sequence[Referral]) -> dict[str, dict[str, Any]]:
    index = BlindIndex(site_key(settings, link))
    brokers = {b.id: (b, name, agency) for b, name, agency in session.exec(
        select(Broker, User.display_name, Agency.name)
        .join(User, col(User.id) == Broker.user_id)
        .outerjoin(Agency, col(Agency.id) == Broker.agency_id)
        .where(col(Broker.id).in_({r.broker_id for r in rows})))}

    def named(broker_id: int) -> dict[str, Any]:
        found = brokers.get(broker_id)
        if found is None:
            return {}
        broker, name, agency = found
        return {"broker_name": mask_name(name), "broker_phone_masked": broker.phone_masked,
                "agency_name": agency}

    # One decided otherwise goes inactive, and so does an erased one (blanked, so the
    # appliance's copy of its masked number goes too).
    return {str(r.id): {
        "id": r.id, "project_id": r.project_id, "broker_id": r.broker_id,
        "agency_id": r.agency_id, "state": r.state, "reason_code": r.reason_code,
        "phone_masked": r.phone_masked, "masked": r.phone_given is not None,
        "phone_key": qr.referral_phone_key(settings, index, r),
        "rule_version": r.rule_version, "created_at": iso(r.created_at),
        "protection_until": iso(r.protection_until) if r.protection_until else None,
        **named(r.broker_id),
        **({} if _stated_live(r) else {"active": False}),
    } for r in rows}


def _stated_live(row: Referral) -> bool:
    """Live as far as a state can say: the window's end is the appliance's to read."""
    return row.state in qr.LIVE_STATES and not qr.is_erased(row)


def announce_referrals(session: Session, settings: CloudSettings,
                       rows: Iterable[Referral]) -> None:
    """Append these referrals' items to their sites' feeds, in the caller's transaction
    (a site without an appliance gets nothing). Call after a change to a referral's
    state, window or number. The sites' links are locked first (in site order), so the
    site's offsets commit in order (docs/sync-protocol.md §10)."""
    changed = [r for r in rows if r.id is not None]
    if not changed:
        return
    found = session.exec(
        select(Project.id, SiteLink).join(SiteLink, col(SiteLink.site_id) == Project.site_id)
        .where(col(Project.id).in_({r.project_id for r in changed}))
        .order_by(col(SiteLink.site_id)).with_for_update(of=SiteLink)).all()
    links = {link.site_id: link for _, link in found}
    for site_id, link in links.items():
        projects = {project_id for project_id, held in found if held.site_id == site_id}
        mine = [r for r in changed if r.project_id in projects]
        for key, data in _items(session, settings, link, mine).items():
            append(session, site_id, "referral", key, data)


register_kind(DerivedKind("qr_key", qr_keys))
register_kind(DerivedKind("channel_rules", rule_versions))
register_kind(DerivedKind("referral", live_referrals, on_request=False))
