"""Agencies and brokers: invitation by code, joining, approval, freezing, rating.

Lifecycle: a channel manager invites an agency (invited, with a code to share as a code
or a link); the first member who joins with the code makes the agency's application
(pending); the manager approves it (active), may freeze it and make it active again.
Brokers join pending and are approved by their agency's admin or a channel manager. A
user without a code joins as an individual referrer (全民营销), approved by a manager.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from typing import Any

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import scopes
from cloud.channel.errors import (
    AgencyNotFound,
    AlreadyJoined,
    BrokerNotFound,
    InviteCodeInvalid,
    StatusChangeNotAllowed,
)
from cloud.channel.models import Agency, Broker
from cloud.identity.deps import Principal
from cloud.identity.models import User
from cloud.settings import CloudSettings
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import utcnow

BROKER_PHONE_CONTEXT = "channel_broker.phone"
# Unambiguous letters and digits (no 0/O, 1/I/L): the code is read out and typed.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8

# Which status may follow which: approval activates; freezing and unfreezing.
AGENCY_MOVES: dict[str, frozenset[str]] = {
    "invited": frozenset(),
    "pending": frozenset({"active"}),
    "active": frozenset({"frozen"}),
    "frozen": frozenset({"active"}),
}
BROKER_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"active"}),
    "active": frozenset({"frozen"}),
    "frozen": frozenset({"active"}),
}


def new_invite_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def invite_agency(session: Session, *, principal: Principal, name: str) -> Agency:
    agency = Agency(name=name, invite_code=new_invite_code(), created_by=principal.user_id)
    session.add(agency)
    session.flush()
    audit_service.record(session, action="channel.agency_invite", principal=principal,
                         object_type="channel_agency", object_id=str(agency.id),
                         detail={"name": name})
    return agency


def list_agencies(session: Session, *, principal: Principal) -> list[Agency]:
    query = select(Agency).order_by(col(Agency.id))
    if not scopes.sees_all_brokers(principal):
        own = scopes.admin_agency(session, principal)
        if own is None:
            return []
        query = query.where(col(Agency.id) == own)
    return list(session.exec(query).all())


def update_agency(session: Session, *, principal: Principal, agency_id: int,
                  status: str | None, rating: int | None, team: str | None = None) -> Agency:
    """`team`: the agency's channel team ("" takes it out of any); None leaves it."""
    agency = session.get(Agency, agency_id, with_for_update=True)
    if agency is None:
        raise AgencyNotFound()
    change = _rate_and_move(agency, AGENCY_MOVES, status, rating)
    if team is not None:
        change["before"]["team"] = agency.team
        agency.team = team.strip() or None
        change["after"]["team"] = agency.team
    audit_service.record(session, action="channel.agency_update", principal=principal,
                         object_type="channel_agency", object_id=str(agency_id),
                         detail=change)
    return agency


def join(session: Session, *, principal: Principal, settings: CloudSettings,
         invite_code: str | None, phone: str) -> Broker:
    """The signed-in user becomes a broker (pending): of the agency whose code they
    give, or an individual referrer without one."""
    if scopes.broker_of(session, principal) is not None:
        raise AlreadyJoined()
    agency = None
    if invite_code is not None:
        agency = agency_by_invite(session, invite_code)
        if agency is None:
            raise InviteCodeInvalid()
        take_agency_invite(agency)
    normalised = normalise_phone(phone)
    broker = Broker(
        user_id=principal.user_id, agency_id=agency.id if agency else None,
        kind="agency" if agency else "referrer",
        phone_enc=settings.cipher.encrypt(normalised, context=BROKER_PHONE_CONTEXT),
        phone_bidx=settings.blind_index.phone(normalised), phone_masked=mask_phone(normalised),
    )
    session.add(broker)
    session.flush()
    audit_service.record(session, action="channel.broker_join", principal=principal,
                         object_type="channel_broker", object_id=str(broker.id),
                         detail={"agency_id": broker.agency_id, "kind": broker.kind})
    return broker


def agency_by_invite(session: Session, invite_code: str) -> Agency | None:
    """The agency whose code this is, locked, unless it is frozen."""
    agency = session.exec(select(Agency).where(
        col(Agency.invite_code) == invite_code.strip().upper()).with_for_update()).first()
    return None if agency is None or agency.status == "frozen" else agency


def take_agency_invite(agency: Agency) -> None:
    if agency.status == "invited":
        agency.status = "pending"  # the first member's joining is the application
        agency.updated_at = utcnow()


def list_brokers(session: Session, *, principal: Principal,
                 agency_id: int | None = None) -> list[Broker]:
    query = select(Broker).order_by(col(Broker.id))
    if not scopes.sees_all_brokers(principal):
        # Not `agency_id == None`: that is IS NULL, the individual referrers.
        own = scopes.admin_agency(session, principal)
        if own is None:
            return []
        query = query.where(col(Broker.agency_id) == own)
    if agency_id is not None:
        query = query.where(col(Broker.agency_id) == agency_id)
    return list(session.exec(query).all())


def user_names(session: Session, user_ids: Collection[int]) -> dict[int, str]:
    """The display names of these accounts (a broker's name is their account's)."""
    if not user_ids:
        return {}
    return {uid: name for uid, name in session.exec(
        select(User.id, User.display_name).where(col(User.id).in_(user_ids))).all()
        if uid is not None}


def update_broker(session: Session, *, principal: Principal, broker_id: int,
                  status: str | None, rating: int | None) -> Broker:
    broker = session.get(Broker, broker_id, with_for_update=True)
    if broker is None or not _manages(session, principal, broker):
        raise BrokerNotFound()
    change = _rate_and_move(broker, BROKER_MOVES, status, rating)
    audit_service.record(session, action="channel.broker_update", principal=principal,
                         object_type="channel_broker", object_id=str(broker_id),
                         detail=change)
    return broker


def _rate_and_move(partner: Agency | Broker, moves: Mapping[str, Collection[str]],
                   status: str | None, rating: int | None) -> dict[str, Any]:
    """Apply a status move the lifecycle allows and a rating; the audit's before/after."""
    before = {"status": partner.status, "rating": partner.rating}
    if status is not None and status != partner.status:
        if status not in moves[partner.status]:
            raise StatusChangeNotAllowed()
        partner.status = status
    if rating is not None:
        partner.rating = rating
    partner.updated_at = utcnow()
    return {"before": before, "after": {"status": partner.status, "rating": partner.rating}}


def _manages(session: Session, principal: Principal, broker: Broker) -> bool:
    if scopes.sees_all_brokers(principal):
        return True
    agency_id = scopes.admin_agency(session, principal)
    # An admin does not approve themselves: their own row is the manager's to approve.
    return (agency_id is not None and broker.agency_id == agency_id
            and broker.user_id != principal.user_id)


def can_refer(session: Session, broker: Broker) -> bool:
    if broker.status != "active":
        return False
    if broker.agency_id is None:
        return True
    agency = session.get(Agency, broker.agency_id)
    return agency is not None and agency.status == "active"

