"""Routes of risk control (渠道风控): cases, their review, the dashboard, and each
project's risk policy (check actions, appeal deadline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlmodel import Session

from cloud.audit import service as audit_service
from cloud.channel import risk_cases, risk_policy, scopes
from cloud.channel.casework_schemas import (
    CaseState,
    CheckOut,
    CheckParamOut,
    DashboardOut,
    RiskCaseDetail,
    RiskCaseOut,
    RiskPolicyIn,
    RiskPolicyOut,
    RiskReviewIn,
)
from cloud.channel.errors import ProjectNotFound
from cloud.channel.models import Referral
from cloud.channel.risk_models import RiskCase
from cloud.db import SessionDep
from cloud.faces import risk as face_risk
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath

router = DomainRouter(prefix="/channel", tags=["channel 渠道风控"])

RiskReader = Annotated[Principal, Depends(authorize(Perm.RISK_READ))]
RiskReviewer = Annotated[Principal, Depends(authorize(Perm.RISK_REVIEW))]
RiskConfigurer = Annotated[Principal, Depends(authorize(Perm.RISK_CONFIGURE))]


def _out(c: RiskCase) -> RiskCaseOut:
    return RiskCaseOut.model_validate(
        {**c.model_dump(), "check_title": risk_policy.CHECKS[c.check_code].title})


def _detail(session: Session, c: RiskCase) -> RiskCaseDetail:
    referral = session.get(Referral, c.referral_id) if c.referral_id is not None else None
    return RiskCaseDetail(**_out(c).model_dump(), evidence=c.evidence,
                          referral_phone_masked=referral.phone_masked if referral else None,
                          referral_state=referral.state if referral else None)


def _read(session: Session, principal: Principal, c: RiskCase) -> RiskCaseDetail:
    """A case's detail; one whose evidence holds sightings is a read of face data."""
    if c.check_code in face_risk.CHECKS:
        audit_service.record(session, action="faces.evidence_read", principal=principal,
                             object_type="channel_risk_case", object_id=str(c.id),
                             detail={"check": c.check_code, "referral_id": c.referral_id})
    return _detail(session, c)


@router.get("/risk/cases", response_model=list[RiskCaseOut], summary="风控案件（所辖项目的）")
def list_cases(session: SessionDep, principal: RiskReader,
               project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
               state: CaseState | None = None,
               check_code: Annotated[str | None, Query(max_length=40)] = None,
               before_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[RiskCaseOut]:
    return [_out(c) for c in risk_cases.list_cases(
        session, principal=principal, project_id=project_id, state=state,
        check_code=check_code, limit=limit, before_id=before_id)]


@router.get("/risk/cases/{case_id}", response_model=RiskCaseDetail,
            summary="一个风控案件及其证据时间线")
def get_case(case_id: IdPath, session: SessionDep, principal: RiskReader) -> RiskCaseDetail:
    return _read(session, principal,
                 risk_cases.get(session, principal=principal, case_id=case_id))


@router.post("/risk/cases/{case_id}/review", response_model=RiskCaseDetail,
             summary="复核风控案件：确认或排除；确认时可作废归属（通知经纪人，可申诉）")
def review_case(case_id: IdPath, body: RiskReviewIn, session: SessionDep,
                principal: RiskReviewer, settings: SettingsDep) -> RiskCaseDetail:
    case = risk_cases.review(session, principal=principal, settings=settings, case_id=case_id,
                             data=risk_cases.Review(body.outcome, body.comment,
                                                    body.void_attribution))
    return _read(session, principal, case)


@router.get("/risk/dashboard", response_model=DashboardOut,
            summary="风控概览：各检查、各项目的待处理案件与近期趋势")
def dashboard(session: SessionDep, principal: RiskReader,
              days: Annotated[int, Query(ge=1, le=365)] = 30) -> DashboardOut:
    found = risk_cases.dashboard(session, principal=principal, days=days)
    return DashboardOut(**found, checks={c.code: c.title for c in risk_policy.CHECKS.values()})


def _check_out(c: risk_policy.Check, setting: risk_policy.CheckSetting) -> CheckOut:
    return CheckOut.model_validate(dict(
        code=c.code, title=c.title, stage=c.stage, status=c.status, batched=c.batched,
        action=setting.action, params=setting.params, default_action=c.default_action,
        actions=list(c.actions), faces=c.code in face_risk.CHECKS,
        param_specs=[CheckParamOut(name=name, label=risk_policy.PARAM_LABELS[name],
                                   default=default, min=low, max=high)
                     for name, (default, low, high) in c.params.items()]))


def _policy_out(found: risk_policy.Policy) -> RiskPolicyOut:
    return RiskPolicyOut(
        project_id=found.project_id, appeal_deadline_days=found.appeal_deadline_days,
        checks=[_check_out(c, found.setting(c.code)) for c in risk_policy.CHECKS.values()])


def _visible_project(session: Session, principal: Principal, project_id: int) -> None:
    if not scopes.sees_project(session, principal, project_id):
        raise ProjectNotFound()


@router.get("/projects/{project_id}/risk-policy", response_model=RiskPolicyOut,
            summary="项目的风控设置：各检查的动作与参数、申诉期限")
def get_policy(project_id: IdPath, session: SessionDep, principal: RiskReader) -> RiskPolicyOut:
    _visible_project(session, principal, project_id)
    return _policy_out(risk_policy.policy(session, project_id))


@router.put("/projects/{project_id}/risk-policy", response_model=RiskPolicyOut,
            summary="修改项目的风控设置（只改所给的检查）")
def put_policy(project_id: IdPath, body: RiskPolicyIn, session: SessionDep,
               principal: RiskConfigurer) -> RiskPolicyOut:
    _visible_project(session, principal, project_id)
    return _policy_out(risk_policy.update(
        session, principal=principal, project_id=project_id,
        appeal_deadline_days=body.appeal_deadline_days, checks=body.checks))
