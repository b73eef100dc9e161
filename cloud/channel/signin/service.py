"""The sign-in flows: SMS code, WeChat web authorisation, mini-program, binding a phone
to a WeChat identity. Each ends in a session of the broker's account (TokenOut)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel.models import Broker
from cloud.channel.signin import accounts
from cloud.channel.signin.codes import SmsCodes
from cloud.channel.signin.errors import (
    SmsCodeInvalid,
    StateInvalid,
    TicketInvalid,
    WeChatPhoneRequired,
)
from cloud.channel.signin.tokens import TICKET_SECONDS, Tokens
from cloud.channel.signin.wechat import WeChatClient, WeChatUser
from cloud.identity import service as identity_service
from cloud.identity.models import User
from cloud.identity.sessions import IssuedTokens
from cloud.identity.throttle import LoginThrottle
from cloud.settings import CloudSettings
from shared.errors import ValidationFailed
from shared.phone import mask_phone, normalise_phone


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str


@dataclass(frozen=True)
class SignIn:
    """What the routes need from a request, in one place."""

    session: Session
    settings: CloudSettings
    codes: SmsCodes
    tokens: Tokens
    wechat: WeChatClient
    throttle: LoginThrottle
    client: Client


def send_code(ctx: SignIn, phone: str) -> int:
    number = normalise_phone(phone)
    cooldown = ctx.codes.send(number, ctx.client.ip)
    audit_service.record(ctx.session, action="channel.sms_send", actor=mask_phone(number),
                         ip=ctx.client.ip, object_type="phone", object_id=mask_phone(number))
    return cooldown


def sms_login(ctx: SignIn, phone: str, code: str, invite_code: str | None) -> IssuedTokens:
    number = normalise_phone(phone)
    _check_code(ctx, number, code)
    broker = accounts.broker_of_phone(ctx.session, ctx.settings, number)
    if broker is None:
        broker = accounts.sign_up(ctx.session, settings=ctx.settings, phone=number,
                                  invite_code=invite_code, display_name=None, ip=ctx.client.ip)
    return _open(ctx, broker, "sms")


def check_next(next_path: str | None) -> str | None:
    """Where the H5 goes after sign-in: a path of ours, never another site."""
    if next_path is None:
        return None
    if (len(next_path) > 200 or not next_path.startswith("/") or next_path.startswith("//")
            or "\\" in next_path or any(ord(ch) < 32 for ch in next_path)):
        raise ValidationFailed("next 只能是本站路径", code="next_invalid")
    return next_path


def wechat_authorize_url(ctx: SignIn, *, redirect_uri: str, invite_code: str | None,
                         next_path: str | None) -> str:
    state = ctx.tokens.state({"inv": invite_code, "next": check_next(next_path)})
    return ctx.wechat.authorize_url(redirect_uri, state)


def wechat_login(ctx: SignIn, code: str, state: str) -> tuple[IssuedTokens, str | None]:
    claims = ctx.tokens.redeem_state(state)
    if claims is None:
        raise StateInvalid()
    wx = ctx.wechat.web_user(code)
    return _wechat(ctx, wx, claims.get("inv"), claims.get("next")), claims.get("next")


def mini_login(ctx: SignIn, js_code: str, invite_code: str | None) -> IssuedTokens:
    return _wechat(ctx, ctx.wechat.mini_user(js_code), invite_code, None)


def wechat_bind(ctx: SignIn, ticket: str, phone: str,
                sms_code: str) -> tuple[IssuedTokens, str | None]:
    claims = ctx.tokens.peek_ticket(ticket)
    if claims is None:
        raise TicketInvalid()
    number = normalise_phone(phone)
    _check_code(ctx, number, sms_code)
    if ctx.tokens.redeem_ticket(ticket) is None:
        raise TicketInvalid()
    wx = WeChatUser(app=claims["app"], appid=claims["appid"], openid=claims["openid"],
                    unionid=claims.get("unionid"), nickname=claims.get("nick"))
    broker = accounts.broker_of_phone(ctx.session, ctx.settings, number)
    if broker is None:
        broker = accounts.sign_up(ctx.session, settings=ctx.settings, phone=number,
                                  invite_code=claims.get("inv"), display_name=wx.nickname,
                                  ip=ctx.client.ip)
    accounts.bind_wechat(ctx.session, settings=ctx.settings, broker=broker, wx=wx,
                         ip=ctx.client.ip)
    return _open(ctx, broker, f"wechat_{wx.app}"), claims.get("next")


def _wechat(ctx: SignIn, wx: WeChatUser, invite_code: Any, next_path: Any) -> IssuedTokens:
    broker = accounts.broker_of_wechat(ctx.session, ctx.settings, wx)
    if broker is not None:
        return _open(ctx, broker, f"wechat_{wx.app}")
    ticket = ctx.tokens.ticket({
        "app": wx.app, "appid": wx.appid, "openid": wx.openid, "unionid": wx.unionid,
        "nick": wx.nickname, "inv": invite_code, "next": next_path})
    raise WeChatPhoneRequired(ticket, TICKET_SECONDS)


def _check_code(ctx: SignIn, number: str, code: str) -> None:
    # The per-source login limit bounds guessing across numbers (each code has 5 tries).
    ctx.throttle.admit(f"sms:{ctx.settings.blind_index.phone(number)}", ctx.client.ip)
    if not ctx.codes.check(number, code):
        audit_service.record(ctx.session, action="auth.login", result="failure",
                             actor=mask_phone(number), ip=ctx.client.ip, object_type="user",
                             detail={"method": "sms", "reason": "bad_code"})
        raise SmsCodeInvalid()


def _open(ctx: SignIn, broker: Broker, method: str) -> IssuedTokens:
    user = ctx.session.get(User, broker.user_id)
    assert user is not None
    return identity_service.sign_in(ctx.session, settings=ctx.settings, user=user,
                                    method=method, ip=ctx.client.ip,
                                    user_agent=ctx.client.user_agent)
