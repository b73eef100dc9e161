"""Routes of the broker H5 (/broker/…), the project profiles and the campaigns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from cloud.channel import campaigns, portal, profiles, scopes
from cloud.channel.listing_schemas import (
    BrokerCustomerOut,
    BrokerMeOut,
    BrokerProjectOut,
    CampaignIn,
    CampaignOut,
    CampaignStatus,
    CampaignUpdate,
    ProfileIn,
    ProfileOut,
)
from cloud.channel.schemas import ReferralState
from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath

router = DomainRouter(prefix="/channel", tags=["channel 经纪人H5、项目资料与渠道活动"])

BrokerSelf = Annotated[Principal, Depends(authorize(Perm.BROKER_PORTAL))]
RulesReader = Annotated[Principal, Depends(authorize(Perm.CHANNEL_RULES_READ))]
ProfileEditor = Annotated[Principal, Depends(authorize(Perm.PROJECT_PROFILE_MANAGE))]
CampaignManager = Annotated[Principal, Depends(authorize(Perm.CAMPAIGN_MANAGE))]
Yuan = Annotated[int | None, Query(ge=0, le=DB_INT_MAX)]


@router.get("/broker/me", response_model=BrokerMeOut,
            summary="我的经纪人状态（待审核、已激活、已冻结）")
def broker_me(session: SessionDep, principal: BrokerSelf) -> BrokerMeOut:
    return portal.me(session, principal)


@router.get("/broker/projects", response_model=list[BrokerProjectOut],
            summary="可报备的项目：区域、价格带、户型、合作条款、现行规则与最新活动")
def broker_projects(
    session: SessionDep, principal: BrokerSelf,
    district: Annotated[str | None, Query(max_length=40)] = None,
    price_min: Yuan = None, price_max: Yuan = None,
    layout: Annotated[str | None, Query(max_length=20)] = None,
) -> list[BrokerProjectOut]:
    return portal.projects(session, principal=principal, filters=portal.ProjectFilter(
        district=district, price_min=price_min, price_max=price_max, layout=layout))


@router.get("/broker/customers", response_model=list[BrokerCustomerOut],
            summary="我报备的客户：状态、原因与报备后的到访时间")
def broker_customers(session: SessionDep, principal: BrokerSelf, settings: SettingsDep,
                     state: ReferralState | None = None) -> list[BrokerCustomerOut]:
    return portal.customers(session, principal=principal, settings=settings, state=state)


@router.get("/broker/campaigns", response_model=list[CampaignOut],
            summary="已发布、未结束的渠道活动")
def broker_campaigns(session: SessionDep, principal: BrokerSelf) -> list[CampaignOut]:
    return portal.broker_campaigns(session, principal=principal)


@router.get("/projects/{project_id}/profile", response_model=ProfileOut,
            summary="项目资料（经纪人端展示）")
def get_profile(project_id: IdPath, session: SessionDep, principal: RulesReader) -> ProfileOut:
    scopes.require_project(session, principal, project_id)
    return profiles.read(session, project_id)


@router.put("/projects/{project_id}/profile", response_model=ProfileOut,
            summary="编辑项目资料：区域、价格带、户型、合作条款")
def put_profile(project_id: IdPath, body: ProfileIn, session: SessionDep,
                principal: ProfileEditor) -> ProfileOut:
    scopes.require_project(session, principal, project_id)
    return profiles.write(session, principal=principal, project_id=project_id, data=body)


@router.get("/campaigns", response_model=list[CampaignOut],
            summary="渠道活动（所辖项目的，新的在前）")
def list_campaigns(
    session: SessionDep, principal: CampaignManager,
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    status: CampaignStatus | None = None,
) -> list[CampaignOut]:
    found = campaigns.list_campaigns(session, principal=principal, project_id=project_id,
                                     status=status)
    return campaigns.outs(session, found)


@router.post("/campaigns", response_model=CampaignOut, status_code=201,
             summary="新建渠道活动（草稿）")
def create_campaign(body: CampaignIn, session: SessionDep,
                    principal: CampaignManager) -> CampaignOut:
    return campaigns.create(session, principal=principal, data=body)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="一个渠道活动")
def get_campaign(campaign_id: IdPath, session: SessionDep,
                 principal: CampaignManager) -> CampaignOut:
    row = campaigns.get(session, principal=principal, campaign_id=campaign_id)
    return campaigns.outs(session, [row])[0]


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut,
              summary="修改、发布（published）或结束（ended）渠道活动")
def update_campaign(campaign_id: IdPath, body: CampaignUpdate, session: SessionDep,
                    principal: CampaignManager) -> CampaignOut:
    return campaigns.update(session, principal=principal, campaign_id=campaign_id, data=body)
