"""Routes of the channel domain (渠道): agencies, brokers, rule versions, referrals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response

from cloud.channel import cooperation, partners, qr, referrals, review, rules, scopes, sync_events
from cloud.channel.history import REFERRAL_NAME_CONTEXT
from cloud.channel.limits import ReferralLimiter
from cloud.channel.models import Agency, Broker, Referral
from cloud.channel.overrides import reason_text
from cloud.channel.schemas import (
    AgencyIn,
    AgencyOut,
    AgencyUpdate,
    BrokerOut,
    BrokerUpdate,
    CooperationIn,
    CooperationOut,
    JoinIn,
    QrOut,
    ReferralDetail,
    ReferralIn,
    ReferralOut,
    ReferralState,
    ReviewIn,
    RuleVersionIn,
    RuleVersionOut,
)
from cloud.channel.signin.api import router as signin_router
from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings
from shared.attribution import ReasonCode, RuleSet
from shared.bounds import DB_INT_MAX, IdPath
from shared.names import mask_name

router = DomainRouter(prefix="/channel", tags=["channel 渠道与报备"])
router.include_router(signin_router)

AgencyReader = Annotated[Principal, Depends(authorize(Perm.AGENCY_READ))]
AgencyManager = Annotated[Principal, Depends(authorize(Perm.AGENCY_MANAGE))]
Joiner = Annotated[Principal, Depends(authorize(Perm.BROKER_JOIN))]
BrokerReader = Annotated[Principal, Depends(authorize(Perm.BROKER_READ))]
BrokerManager = Annotated[Principal, Depends(authorize(Perm.BROKER_MANAGE))]
RulesReader = Annotated[Principal, Depends(authorize(Perm.CHANNEL_RULES_READ))]
RulesPublisher = Annotated[Principal, Depends(authorize(Perm.CHANNEL_RULES_PUBLISH))]
Referrer = Annotated[Principal, Depends(authorize(Perm.REFERRAL_CREATE))]
ReferralReader = Annotated[Principal, Depends(authorize(Perm.REFERRAL_READ))]
ReferralReviewer = Annotated[Principal, Depends(authorize(Perm.REFERRAL_REVIEW))]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
    description="同一经纪人重复提交同一键，返回第一次的结果")]


def _agency(a: Agency) -> AgencyOut:
    return AgencyOut.model_validate(a, from_attributes=True)


def _broker(b: Broker, names: dict[int, str] | None = None) -> BrokerOut:
    out = BrokerOut.model_validate(b, from_attributes=True)
    out.display_name = (names or {}).get(b.user_id)
    return out


def _referral(settings: CloudSettings, r: Referral) -> dict[str, object]:
    name = settings.cipher.decrypt(r.name_enc, context=REFERRAL_NAME_CONTEXT)
    return {**r.model_dump(exclude={"name_enc", "evidence"}),
            "customer_name": mask_name(name),
            "reason": reason_text(r.reason_code)}


@router.post("/agencies", response_model=AgencyOut, status_code=201, summary="邀请渠道公司")
def invite_agency(body: AgencyIn, session: SessionDep, principal: AgencyManager) -> AgencyOut:
    return _agency(partners.invite_agency(session, principal=principal, name=body.name))


@router.get("/agencies", response_model=list[AgencyOut],
            summary="渠道公司（渠道公司管理员只看本公司）")
def list_agencies(session: SessionDep, principal: AgencyReader) -> list[AgencyOut]:
    return [_agency(a) for a in partners.list_agencies(session, principal=principal)]


@router.patch("/agencies/{agency_id}", response_model=AgencyOut,
              summary="审核通过、冻结、解冻、评级渠道公司，设置渠道团队")
def update_agency(agency_id: IdPath, body: AgencyUpdate, session: SessionDep,
                  principal: AgencyManager) -> AgencyOut:
    return _agency(partners.update_agency(session, principal=principal, agency_id=agency_id,
                                          status=body.status, rating=body.rating,
                                          team=body.team))


@router.post("/brokers/join", response_model=BrokerOut, status_code=201,
             summary="凭邀请码加入渠道公司（不填邀请码为个人推荐人），待审核")
def join(body: JoinIn, session: SessionDep, principal: Joiner,
         settings: SettingsDep) -> BrokerOut:
    return _broker(partners.join(session, principal=principal, settings=settings,
                                 invite_code=body.invite_code, phone=body.phone))


@router.get("/brokers", response_model=list[BrokerOut],
            summary="经纪人（渠道公司管理员只看本公司）")
def list_brokers(
    session: SessionDep, principal: BrokerReader,
    agency_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
) -> list[BrokerOut]:
    found = partners.list_brokers(session, principal=principal, agency_id=agency_id)
    names = partners.user_names(session, {b.user_id for b in found})
    return [_broker(b, names) for b in found]


@router.patch("/brokers/{broker_id}", response_model=BrokerOut,
              summary="审核通过、冻结、解冻、评级经纪人")
def update_broker(broker_id: IdPath, body: BrokerUpdate, session: SessionDep,
                  principal: BrokerManager) -> BrokerOut:
    broker = partners.update_broker(session, principal=principal, broker_id=broker_id,
                                    status=body.status, rating=body.rating)
    return _broker(broker, partners.user_names(session, {broker.user_id}))


def _rule_out(project_id: int, r: RuleSet) -> RuleVersionOut:
    return RuleVersionOut(project_id=project_id, version=r.version,
                          effective_from=r.effective_from,
                          rules=r.model_dump(mode="json", exclude={
                              "version", "effective_from", "project_id"}))


@router.get("/projects/{project_id}/rules", response_model=list[RuleVersionOut],
            summary="项目渠道规则的全部版本（未发布过时为默认规则 v1）")
def list_rules(project_id: IdPath, session: SessionDep,
               principal: RulesReader) -> list[RuleVersionOut]:
    scopes.require_project(session, principal, project_id)
    return [_rule_out(project_id, r) for r in rules.versions(session, project_id)]


@router.post("/projects/{project_id}/rules", response_model=RuleVersionOut, status_code=201,
             summary="发布新的渠道规则版本")
def publish_rules(project_id: IdPath, body: RuleVersionIn, session: SessionDep,
                  principal: RulesPublisher) -> RuleVersionOut:
    scopes.require_project(session, principal, project_id)
    published = rules.publish(session, principal=principal, project_id=project_id,
                              parameters=body.rules, effective_from=body.effective_from)
    return _rule_out(project_id, published)


@router.get("/projects/{project_id}/cooperation", response_model=CooperationOut,
            summary="项目的合作渠道公司（空：对所有渠道公司开放）")
def get_cooperation(project_id: IdPath, session: SessionDep,
                    principal: RulesReader) -> CooperationOut:
    scopes.require_project(session, principal, project_id)
    return CooperationOut(project_id=project_id,
                          agency_ids=cooperation.agencies_of(session, project_id))


@router.put("/projects/{project_id}/cooperation", response_model=CooperationOut,
            summary="设置项目的合作渠道公司：只有列出的渠道公司的经纪人可报备（个人推荐人不限）")
def set_cooperation(project_id: IdPath, body: CooperationIn, session: SessionDep,
                    principal: AgencyManager) -> CooperationOut:
    scopes.require_project(session, principal, project_id)
    return CooperationOut(project_id=project_id, agency_ids=cooperation.replace(
        session, principal=principal, project_id=project_id, agency_ids=body.agency_ids))


@router.post("/referrals", response_model=ReferralOut, status_code=201,
             summary="报备客户：立即判定，返回结果与原因（无效报备也记录并返回 201）",
             responses={200: {"description": "同一幂等键的重复提交：第一次的结果"},
                        429: {"description": "报备过于频繁（Retry-After）"}})
def submit_referral(body: ReferralIn, request: Request, response: Response,
                    session: SessionDep, principal: Referrer, settings: SettingsDep,
                    idempotency_key: IdempotencyKey = None) -> ReferralOut:
    limiter: ReferralLimiter = request.app.state.referral_limiter
    done = referrals.submit_as(session, principal=principal, settings=settings,
                               user_id=principal.user_id, admit=limiter.admit,
                               data=referrals.Submission(
                                   project_id=body.project_id, phone=body.phone,
                                   name=body.name, customer_group=body.customer_group,
                                   idempotency_key=idempotency_key))
    if done.replayed:
        response.status_code = 200
    return ReferralOut.model_validate(_referral(settings, done.referral))


@router.get("/referrals", response_model=list[ReferralOut],
            summary="报备列表（新的在前；经纪人只看自己的，渠道公司管理员看本公司的，"
                    "渠道经理看所辖项目的）")
def list_referrals(
    session: SessionDep, principal: ReferralReader, settings: SettingsDep,
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    state: ReferralState | None = None,
    broker_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    agency_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    reason_code: Annotated[ReasonCode | None, Query(description="判客原因代码")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX,
                                           description="上一页最后一条的 id")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReferralOut]:
    found = referrals.list_referrals(
        session, principal=principal, limit=limit, before_id=before_id,
        filters=referrals.ReferralFilters(project_id, state, broker_id, agency_id,
                                          reason_code.value if reason_code else None))
    return [ReferralOut.model_validate(_referral(settings, r)) for r in found]


@router.get("/referrals/{referral_id}", response_model=ReferralDetail,
            summary="一条报备及其判定与原因")
def get_referral(referral_id: IdPath, session: SessionDep, principal: ReferralReader,
                 settings: SettingsDep) -> ReferralDetail:
    row = referrals.get(session, principal=principal, referral_id=referral_id)
    staff = bool(principal.roles & scopes.PROJECT_SCOPED_ROLES)
    scans = [{**s.model_dump(), "differs": s.outcome == "accepted" and (
        s.edge_state, s.edge_reason) != (s.cloud_state, s.cloud_reason)}
        for s in sync_events.scans_of(session, referral_id)]
    return ReferralDetail.model_validate(
        {**_referral(settings, row), "evidence": row.evidence if staff else None,
         "qr_check_ins": scans})


@router.post("/referrals/{referral_id}/review", response_model=ReferralDetail,
             summary="开发商审核报备（规则要求审核时）：通过或驳回，驳回须填写意见")
def review_referral(referral_id: IdPath, body: ReviewIn, session: SessionDep,
                    principal: ReferralReviewer, settings: SettingsDep) -> ReferralDetail:
    row = review.review(session, principal=principal, settings=settings,
                        referral_id=referral_id, approved=body.approved, comment=body.comment)
    return ReferralDetail.model_validate({**_referral(settings, row), "evidence": row.evidence})


@router.post("/referrals/{referral_id}/qr", response_model=QrOut, status_code=201,
             summary="生成扫码带看二维码（仅报备本人；签名、限时、一次有效）")
def referral_qr(referral_id: IdPath, session: SessionDep, principal: Referrer,
                settings: SettingsDep) -> QrOut:
    issued = qr.issue(session, settings=settings, principal=principal,
                      broker=scopes.broker_of(session, principal), referral_id=referral_id)
    return QrOut(token=issued.token, qr_text=issued.token, expires_at=issued.expires_at)
