"""Routes of the data-subject request workflow (个人信息主体请求), for the privacy officer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.privacy import service
from cloud.privacy.models import SubjectRequest
from cloud.privacy.schemas import (
    CorrectionIn,
    ErasureOut,
    RefusalIn,
    ResolutionIn,
    Status,
    SubjectData,
    SubjectRequestDetail,
    SubjectRequestIn,
    SubjectRequestPublic,
)
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings
from shared.bounds import IdPath

router = DomainRouter(prefix="/privacy/requests", tags=["privacy 个人信息主体请求"])

Officer = Annotated[Principal, Depends(authorize(Perm.PRIVACY_REQUEST))]


def public(request: SubjectRequest) -> SubjectRequestPublic:
    return SubjectRequestPublic.model_validate(
        {**request.model_dump(), "overdue": service.overdue(request)})


def detailed(settings: CloudSettings, request: SubjectRequest) -> SubjectRequestDetail:
    return SubjectRequestDetail.model_validate(
        {**request.model_dump(), "overdue": service.overdue(request),
         "detail": service.detail_text(settings, request)})


@router.get("", response_model=list[SubjectRequestPublic])
def list_requests(
    session: SessionDep, principal: Officer,
    status: Annotated[Status | None, Query(description="open 办理中 / completed 已办结 / "
                                                       "refused 已拒绝")] = None,
    overdue: Annotated[bool, Query(description="只看已超期未办结的")] = False,
) -> list[SubjectRequestPublic]:
    return [public(r) for r in service.list_requests(session, status=status,
                                                     only_overdue=overdue)]


@router.post("", response_model=SubjectRequestDetail, status_code=201)
def create_request(body: SubjectRequestIn, session: SessionDep, principal: Officer,
                   settings: SettingsDep) -> SubjectRequestDetail:
    request = service.create(session, principal=principal, settings=settings, data=body)
    return detailed(settings, request)


@router.get("/{request_id}", response_model=SubjectRequestDetail)
def get_request(request_id: IdPath, session: SessionDep, principal: Officer,
                settings: SettingsDep) -> SubjectRequestDetail:
    return detailed(settings, service.get(session, request_id))


@router.post("/{request_id}/subject-data", response_model=SubjectData)
def subject_data(request_id: IdPath, session: SessionDep, principal: Officer,
                 settings: SettingsDep) -> SubjectData:
    """Unmasked: POST because reading it is an audited act."""
    data = service.subject_data(session, principal=principal, settings=settings,
                                request_id=request_id)
    return data


@router.post("/{request_id}/correct", response_model=SubjectRequestPublic)
def correct(request_id: IdPath, body: CorrectionIn, session: SessionDep, principal: Officer,
            settings: SettingsDep) -> SubjectRequestPublic:
    request = service.correct_name(session, principal=principal, settings=settings,
                                   request_id=request_id, name=body.name)
    return public(request)


@router.post("/{request_id}/erase", response_model=ErasureOut)
def erase(request_id: IdPath, http: Request, session: SessionDep, principal: Officer,
          settings: SettingsDep) -> ErasureOut:
    done = service.erase(session, principal=principal, settings=settings,
                         store=http.app.state.evidence_store, request_id=request_id)
    return ErasureOut(request=public(done.request), customers_erased=done.customers,
                      visits_kept_anonymous=done.visits, follow_up_notes_cleared=done.notes)


@router.post("/{request_id}/complete", response_model=SubjectRequestPublic)
def complete(request_id: IdPath, body: ResolutionIn, session: SessionDep,
             principal: Officer) -> SubjectRequestPublic:
    request = service.complete(session, principal=principal, request_id=request_id,
                               resolution=body.resolution)
    return public(request)


@router.post("/{request_id}/refuse", response_model=SubjectRequestPublic)
def refuse(request_id: IdPath, body: RefusalIn, session: SessionDep,
           principal: Officer) -> SubjectRequestPublic:
    request = service.refuse(session, principal=principal, request_id=request_id,
                             code=body.code, reason=body.reason)
    return public(request)
