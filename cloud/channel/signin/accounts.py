"""Who a sign-in is: the broker of a phone number or of a WeChat identity, and sign-up
through an invite — an agency's code makes a pending broker of that agency, a broker's
personal code an individual referrer (全民营销) linked to the inviter."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.channel import partners
from cloud.channel.history import lock
from cloud.channel.models import Agency, Broker
from cloud.channel.signin.errors import InviteInvalid, InviteRequired, PhoneAmbiguous
from cloud.channel.signin.models import OPENID_CONTEXT, UNIONID_CONTEXT, WeChatIdentity
from cloud.channel.signin.wechat import WeChatUser
from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.identity.security import generate_password
from cloud.settings import CloudSettings
from shared.errors import Conflict
from shared.phone import mask_phone
from shared.timeutil import utcnow


class WeChatAlreadyBound(Conflict):
    code = "wechat_already_bound"
    title = "该微信已绑定其他手机号"


@dataclass(frozen=True)
class Invite:
    agency: Agency | None = None
    inviter: Broker | None = None


def resolve_invite(session: Session, code: str | None) -> Invite | None:
    """The agency or the active broker a code belongs to; None without a code."""
    if not code:
        return None
    agency = partners.agency_by_invite(session, code)
    if agency is not None:
        return Invite(agency=agency)
    inviter = session.exec(select(Broker).where(
        col(Broker.invite_code) == code.strip().upper())).first()
    if inviter is None or not partners.can_refer(session, inviter):
        raise InviteInvalid()
    return Invite(inviter=inviter)


def broker_of_phone(session: Session, settings: CloudSettings, phone: str) -> Broker | None:
    found = session.exec(select(Broker).where(
        Broker.phone_bidx == settings.blind_index.phone(phone)).limit(2)).all()
    if len(found) > 1:  # accounts made by hand before sign-in existed may share a number
        raise PhoneAmbiguous()
    return found[0] if found else None


def sign_up(session: Session, *, settings: CloudSettings, phone: str, invite_code: str | None,
            display_name: str | None, ip: str | None) -> Broker:
    """A new broker (and their account) for a number nobody holds yet."""
    # Two first sign-ins of one number at once would make two brokers: serialise them.
    lock(session, f"channel:signup:{settings.blind_index.phone(phone)}")
    existing = broker_of_phone(session, settings, phone)
    if existing is not None:
        return existing
    invite = resolve_invite(session, invite_code)
    if invite is None:
        raise InviteRequired()
    user = identity_service.create_user(
        session, username=f"b{secrets.token_hex(8)}", password=generate_password(),
        display_name=(display_name or "").strip() or mask_phone(phone), roles=["broker"],
        site_ids=[],
        must_change_password=False, actor="signup", ip=ip)
    assert user.id is not None
    if invite.agency is not None:
        partners.take_agency_invite(invite.agency)
    status = "active" if (invite.inviter is not None
                          and settings.referrer_auto_approve) else "pending"
    broker = Broker(
        user_id=user.id, agency_id=invite.agency.id if invite.agency else None,
        kind="agency" if invite.agency else "referrer", status=status,
        invited_by=invite.inviter.id if invite.inviter else None,
        phone_enc=settings.cipher.encrypt(phone, context=partners.BROKER_PHONE_CONTEXT),
        phone_bidx=settings.blind_index.phone(phone), phone_masked=mask_phone(phone))
    session.add(broker)
    session.flush()
    audit_service.record(session, action="channel.broker_signup", actor=user.username,
                         actor_id=user.id, ip=ip, object_type="channel_broker",
                         object_id=str(broker.id),
                         detail={"kind": broker.kind, "agency_id": broker.agency_id,
                                 "invited_by": broker.invited_by, "status": broker.status})
    return broker


def broker_of_wechat(session: Session, settings: CloudSettings,
                     wx: WeChatUser) -> Broker | None:
    """The broker this WeChat user signed in as before: by this app's openid, else by
    unionid from another app of the same open-platform account (then remembered here)."""
    index = settings.blind_index
    row = session.exec(select(WeChatIdentity).where(
        WeChatIdentity.appid == wx.appid,
        WeChatIdentity.openid_bidx == index.of("wechat_openid", wx.openid))).first()
    if row is None and wx.unionid:
        sibling = session.exec(select(WeChatIdentity).where(
            WeChatIdentity.unionid_bidx == index.of("wechat_unionid", wx.unionid))).first()
        if sibling is not None:
            row = _identity(settings, sibling.broker_id, wx)
            session.add(row)
    if row is None:
        return None
    row.last_login_at = utcnow()
    session.add(row)
    session.flush()
    return session.get(Broker, row.broker_id)


def bind_wechat(session: Session, *, settings: CloudSettings, broker: Broker, wx: WeChatUser,
                ip: str | None) -> None:
    assert broker.id is not None
    bound = broker_of_wechat(session, settings, wx)
    if bound is not None:
        if bound.id != broker.id:
            raise WeChatAlreadyBound()
        return
    session.add(_identity(settings, broker.id, wx))
    session.flush()
    user = session.get(User, broker.user_id)
    audit_service.record(session, action="channel.wechat_bind",
                         actor=user.username if user else "", actor_id=broker.user_id, ip=ip,
                         object_type="channel_broker", object_id=str(broker.id),
                         detail={"app": wx.app, "appid": wx.appid})


def _identity(settings: CloudSettings, broker_id: int, wx: WeChatUser) -> WeChatIdentity:
    cipher, index = settings.cipher, settings.blind_index
    return WeChatIdentity(
        broker_id=broker_id, app=wx.app, appid=wx.appid,
        openid_enc=cipher.encrypt(wx.openid, context=OPENID_CONTEXT),
        openid_bidx=index.of("wechat_openid", wx.openid),
        unionid_enc=cipher.encrypt(wx.unionid, context=UNIONID_CONTEXT) if wx.unionid else None,
        unionid_bidx=index.of("wechat_unionid", wx.unionid) if wx.unionid else None)
