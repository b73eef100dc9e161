"""Routes of 智能拓客: the broker's share links and leads, the public share page (no
sign-in), the staff's lead list and a customer's lead timeline (线索动态)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response

from cloud.channel import lead_timeline, leads, share_card, share_tokens, shares
from cloud.channel.api import _referral
from cloud.channel.errors import SharePayloadTooLarge
from cloud.channel.lead_schemas import (
    LeadIn,
    LeadOut,
    LeadReceived,
    LeadTimelineOut,
    PublicShareOut,
    ShareEventIn,
    ShareIn,
    ShareOut,
)
from cloud.channel.limits import ReferralLimiter
from cloud.channel.schemas import ReferralOut
from cloud.channel.share_limits import ShareLimiter
from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize, client_ip
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath
from shared.timeutil import utcnow

router = DomainRouter(prefix="/channel", tags=["channel 智能拓客：分享与线索"])
timeline_router = DomainRouter(tags=["channel 智能拓客：分享与线索"])

BrokerSelf = Annotated[Principal, Depends(authorize(Perm.BROKER_PORTAL))]
Referrer = Annotated[Principal, Depends(authorize(Perm.REFERRAL_CREATE))]
LeadReader = Annotated[Principal, Depends(authorize(Perm.LEAD_READ))]
TimelineReader = Annotated[Principal, Depends(authorize(
    Perm.CUSTOMER_READ, Perm.VISIT_READ, Perm.FOLLOW_UP_READ))]
Token = Annotated[str, Path(min_length=1, max_length=share_tokens.MAX_TOKEN_CHARS,
                            description="分享链接中的令牌")]
# A public body is a few short fields; anything larger is not from our page.
PUBLIC_BODY_BYTES = 2048


async def small_body(request: Request) -> None:
    """Refuse an oversized public body before it is parsed (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > PUBLIC_BODY_BYTES:
        raise SharePayloadTooLarge()
    if len(await request.body()) > PUBLIC_BODY_BYTES:
        raise SharePayloadTooLarge()


SmallBody = Depends(small_body)


@router.post("/broker/shares", response_model=ShareOut, status_code=201,
             summary="分享项目或活动：生成签名链接（半个有效期内重复分享返回同一链接，200）")
def create_share(body: ShareIn, response: Response, session: SessionDep,
                 principal: BrokerSelf, settings: SettingsDep) -> ShareOut:
    target = body.project_id if body.kind == "project" else body.campaign_id
    share, created = shares.create(session, settings=settings, principal=principal,
                                   kind=body.kind, target_id=target or 0)
    if not created:
        response.status_code = 200
    return shares.outs(session, settings, [share])[0]


@router.get("/broker/shares", response_model=list[ShareOut],
            summary="我的分享：访客数、打开、浏览、留资与最近访问")
def my_shares(session: SessionDep, principal: BrokerSelf,
              settings: SettingsDep) -> list[ShareOut]:
    return shares.mine(session, settings=settings, principal=principal)


@router.get("/broker/leads", response_model=list[LeadOut],
            summary="我的线索：留资的访客（号码脱敏）、浏览与转报备结果")
def my_leads(session: SessionDep, principal: BrokerSelf,
             settings: SettingsDep) -> list[LeadOut]:
    return leads.outs(session, settings, leads.mine(session, principal=principal))


@router.post("/broker/leads/{lead_id}/referral", response_model=ReferralOut, status_code=201,
             summary="转报备：以线索的姓名与号码报备（与报备同样判定；重复提交返回第一次结果）",
             responses={200: {"description": "已转过报备：第一次的结果"}})
def convert_lead(lead_id: IdPath, request: Request, response: Response, session: SessionDep,
                 principal: Referrer, settings: SettingsDep) -> ReferralOut:
    limiter: ReferralLimiter = request.app.state.referral_limiter
    done = leads.convert(session, principal=principal, settings=settings, limiter=limiter,
                         lead_id=lead_id)
    if done.replayed:
        response.status_code = 200
    return ReferralOut.model_validate(_referral(settings, done.referral))


@router.get("/leads", response_model=list[LeadOut],
            summary="拓客线索（经纪人看自己的，渠道公司管理员看本公司的，渠道经理看所辖项目的）")
def list_leads(
    session: SessionDep, principal: LeadReader, settings: SettingsDep,
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    broker_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    agency_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    converted: Annotated[bool | None, Query(description="true 已转报备，false 未转")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX,
                                           description="上一页最后一条的 id")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[LeadOut]:
    found = leads.list_leads(session, principal=principal, before_id=before_id, limit=limit,
                             filters=leads.LeadFilters(project_id, broker_id, agency_id,
                                                       converted))
    return leads.outs(session, settings, found)


@router.get("/public/shares/{token}", response_model=PublicShareOut,
            summary="公开分享页（无需登录）：项目或活动的公开信息与留资授权文本")
def public_share(token: Token, request: Request, session: SessionDep,
                 settings: SettingsDep) -> PublicShareOut:
    share_tokens.verify(settings, token, utcnow())  # a forgery costs no database read
    limiter: ShareLimiter = request.app.state.share_limiter
    limiter.admit_read(client_ip(request))
    opened = shares.open_share(session, settings=settings, token_text=token)
    shown = shares.public(session, opened)
    image = str(request.url_for("share_card_picture", token=token))
    return shown.model_copy(update={"card": share_card.card(shown, image)})


@router.get("/public/shares/{token}/card.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}},
            summary="分享卡片图片（PNG，正方形，项目或活动名称）")
def share_card_picture(token: Token, request: Request, session: SessionDep,
                       settings: SettingsDep) -> Response:
    share_tokens.verify(settings, token, utcnow())
    limiter: ShareLimiter = request.app.state.share_limiter
    limiter.admit_read(client_ip(request))
    opened = shares.open_share(session, settings=settings, token_text=token)
    return Response(share_card.picture(shares.public(session, opened), settings.poster_font),
                    media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})


@router.post("/public/shares/{token}/events", status_code=204, response_class=Response,
             dependencies=[SmallBody],
             summary="记录打开或页面浏览（访客 id 保存在访客浏览器；限频）")
def share_event(token: Token, body: ShareEventIn, request: Request, session: SessionDep,
                settings: SettingsDep) -> Response:
    claims = share_tokens.verify(settings, token, utcnow())
    key = share_tokens.visitor_key(settings, claims.share_id, body.visitor_id)
    limiter: ShareLimiter = request.app.state.share_limiter
    limiter.admit_event(client_ip(request), claims.share_id, key)
    opened = shares.open_share(session, settings=settings, token_text=token)
    shares.record_event(session, share=opened.share, visitor_key=key, data=body)
    return Response(status_code=204)


@router.post("/public/shares/{token}/leads", response_model=LeadReceived, status_code=201,
             dependencies=[SmallBody],
             summary="留资：姓名与手机号（须勾选授权；号码加密保存，归分享的经纪人）")
def share_lead(token: Token, body: LeadIn, request: Request, session: SessionDep,
               settings: SettingsDep) -> LeadReceived:
    share_tokens.verify(settings, token, utcnow())
    limiter: ShareLimiter = request.app.state.share_limiter
    limiter.admit_lead(client_ip(request))
    opened = shares.open_share(session, settings=settings, token_text=token)
    key = share_tokens.visitor_key(settings, opened.share.id or 0, body.visitor_id)
    leads.create(session, settings=settings, opened=opened, visitor_key=key, data=body)
    return LeadReceived()


@timeline_router.get("/customers/{customer_id}/lead-timeline", response_model=LeadTimelineOut,
                     summary="线索动态：分享打开与浏览、留资、资料修改、报备、到访、跟进（新的在前）")
def customer_lead_timeline(customer_id: IdPath, session: SessionDep,
                           principal: TimelineReader) -> LeadTimelineOut:
    return lead_timeline.timeline(session, principal=principal, customer_id=customer_id)
