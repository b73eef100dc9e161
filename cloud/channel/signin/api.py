"""Routes of broker sign-in (anonymous: they open the session) and of personal invites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from cloud.channel.signin import invites, jssdk, poster, service
from cloud.channel.signin import sms as sms_adapters
from cloud.channel.signin import store as signin_store
from cloud.channel.signin.codes import SmsCodes
from cloud.channel.signin.schemas import (
    InviteeOut,
    InviteOut,
    JsConfigIn,
    JsConfigOut,
    MiniLoginIn,
    SignInOut,
    SmsLoginIn,
    SmsSendIn,
    SmsSendOut,
    WeChatBindIn,
    WeChatLoginIn,
)
from cloud.channel.signin.tokens import Tokens
from cloud.channel.signin.wechat import WeChatClient
from cloud.db import SessionDep
from cloud.identity import refresh_cookie
from cloud.identity.api import ThrottleDep, keep_rejection_record
from cloud.identity.deps import Principal, SettingsDep, authorize, client_ip
from cloud.identity.permissions import Perm
from cloud.identity.schemas import TokenOut
from cloud.identity.sessions import IssuedTokens
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings

router = DomainRouter(tags=["channel 经纪人登录与邀请"])

InviteSharer = Annotated[Principal, Depends(authorize(Perm.INVITE_SHARE))]


@dataclass(frozen=True)
class Parts:
    """The adapters of sign-in, made once per application."""

    codes: SmsCodes
    tokens: Tokens
    wechat: WeChatClient


def parts(settings: CloudSettings) -> Parts:
    store = signin_store.from_settings(settings)
    return Parts(codes=SmsCodes(store, sms_adapters.from_settings(settings), settings),
                 tokens=Tokens(settings, store), wechat=WeChatClient(settings))


def _context(request: Request, session: SessionDep, settings: SettingsDep,
             throttle: ThrottleDep) -> service.SignIn:
    made: Parts = request.app.state.sign_in
    return service.SignIn(session=session, settings=settings, codes=made.codes,
                          tokens=made.tokens, wechat=made.wechat, throttle=throttle,
                          client=service.Client(client_ip(request),
                                                request.headers.get("user-agent", "")))


Ctx = Annotated[service.SignIn, Depends(_context)]


def h5_url(request: Request, settings: CloudSettings) -> str:
    return settings.h5_public_url or f"{request.base_url}h5/"


def _tokens(request: Request, response: Response, settings: CloudSettings,
            issued: IssuedTokens, next_path: str | None = None) -> SignInOut:
    refresh_cookie.attach(response, request, settings, issued.refresh_token)
    return SignInOut(**TokenOut.of(issued).model_dump(), next=next_path)


@router.post("/auth/sms/send", response_model=SmsSendOut, status_code=202,
             summary="获取短信验证码（同一号码 60 秒一次；每个来源每小时有限额）",
             responses={429: {"description": "发送过于频繁（Retry-After）"}})
def sms_send(body: SmsSendIn, ctx: Ctx) -> SmsSendOut:
    return SmsSendOut(cooldown_seconds=service.send_code(ctx, body.phone))


@router.post("/auth/sms/login", response_model=SignInOut,
             summary="手机验证码登录；未注册的号码凭邀请码注册")
def sms_login(body: SmsLoginIn, request: Request, response: Response, ctx: Ctx) -> SignInOut:
    with keep_rejection_record(ctx.session):
        issued = service.sms_login(ctx, body.phone, body.code, body.invite_code)
    return _tokens(request, response, ctx.settings, issued)


@router.get("/auth/wechat/authorize", status_code=302, response_class=RedirectResponse,
            summary="跳转微信网页授权（state 签名、10 分钟有效、只能用一次）")
def wechat_authorize(
    request: Request, ctx: Ctx,
    invite_code: Annotated[str | None, Query(min_length=4, max_length=16,
                                             pattern=r"^[A-Za-z0-9]+$")] = None,
    next: Annotated[str | None, Query(max_length=200,
                                      description="登录后前往的 H5 页面路径")] = None,
) -> RedirectResponse:
    url = service.wechat_authorize_url(ctx, redirect_uri=h5_url(request, ctx.settings),
                                       invite_code=invite_code, next_path=next)
    return RedirectResponse(url, status_code=302)


@router.post("/auth/wechat/login", response_model=SignInOut,
             summary="微信网页授权登录；首次登录返回 409 wechat_phone_required 与绑定凭证",
             responses={409: {"description": "wechat_phone_required：需绑定手机号（ticket）"}})
def wechat_login(body: WeChatLoginIn, request: Request, response: Response,
                 ctx: Ctx) -> SignInOut:
    issued, next_path = service.wechat_login(ctx, body.code, body.state)
    return _tokens(request, response, ctx.settings, issued, next_path)


@router.post("/auth/miniprogram/login", response_model=SignInOut,
             summary="小程序登录（wx.login 的 code）；首次登录同样返回 409 与绑定凭证",
             responses={409: {"description": "wechat_phone_required：需绑定手机号（ticket）"}})
def miniprogram_login(body: MiniLoginIn, request: Request, response: Response,
                      ctx: Ctx) -> SignInOut:
    issued = service.mini_login(ctx, body.js_code, body.invite_code)
    return _tokens(request, response, ctx.settings, issued)


@router.post("/auth/wechat/bind", response_model=SignInOut,
             summary="微信首次登录绑定手机号（凭证 + 短信验证码）；未注册的号码按邀请注册")
def wechat_bind(body: WeChatBindIn, request: Request, response: Response,
                ctx: Ctx) -> SignInOut:
    with keep_rejection_record(ctx.session):
        issued, next_path = service.wechat_bind(ctx, body.ticket, body.phone, body.sms_code)
    return _tokens(request, response, ctx.settings, issued, next_path)


def _mine(request: Request, session: SessionDep, principal: InviteSharer,
          settings: SettingsDep) -> invites.MyInvite:
    return invites.mine(session, principal=principal, h5_url=h5_url(request, settings))


@router.get("/invites/mine", response_model=InviteOut, summary="我的邀请码、邀请链接与邀请到的人")
def my_invite(mine: Annotated[invites.MyInvite, Depends(_mine)]) -> InviteOut:
    return InviteOut(code=mine.code, link=mine.link, invited_count=len(mine.invited),
                     invited=[InviteeOut(display_name=i.display_name, joined_at=i.joined_at)
                              for i in mine.invited])


@router.get("/invites/mine/poster.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}},
            summary="邀请海报（PNG：邀请人、所属渠道、推荐楼盘与邀请链接的二维码）")
def my_poster(mine: Annotated[invites.MyInvite, Depends(_mine)], session: SessionDep,
              settings: SettingsDep,
              project_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    image = poster.poster(mine.link, invites.caption(session, mine, project_id),
                          settings.poster_font)
    return Response(image, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=300"})


@router.post("/wechat/js-config", response_model=JsConfigOut,
             summary="微信内打开经纪人端时的 JS-SDK 配置（分享卡片）：为 H5 页面地址签名",
             responses={422: {"description": "wechat_page_url_invalid：不是经纪人端的页面"},
                        503: {"description": "未配置公众号，或微信暂不可用"}})
def wechat_js_config(body: JsConfigIn, request: Request, session: SessionDep,
                     principal: InviteSharer, settings: SettingsDep) -> JsConfigOut:
    made: Parts = request.app.state.sign_in
    found = jssdk.config(session, settings, made.wechat, url=body.url,
                         h5_url=h5_url(request, settings))
    return JsConfigOut(app_id=found.app_id, timestamp=found.timestamp,
                       nonce_str=found.nonce_str, signature=found.signature,
                       js_api_list=list(found.js_api_list))
