"""Routes of the faces domain: a site's face settings (the 案场设备 page), the
distinct-person count, a customer's face data (audited) and the face part of a deletion
request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import Session

from cloud.db import SessionDep
from cloud.faces import counter, erasure, service
from cloud.faces import settings as face_settings
from cloud.faces.errors import FaceRequestNotFound
from cloud.faces.models import SiteFaceSetting
from cloud.faces.schemas import (
    FaceCountOut,
    FaceDataOut,
    FaceErasureOut,
    SiteFacesIn,
    SiteFacesOut,
)
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.privacy.models import SubjectRequest
from cloud.routing import DomainRouter
from shared.bounds import IdPath
from shared.timeutil import utcnow

router = DomainRouter(prefix="/faces", tags=["faces 人脸识别"])

FacesReader = Annotated[Principal, Depends(authorize(Perm.FACES_READ))]
FacesConfigurer = Annotated[Principal, Depends(authorize(Perm.FACES_CONFIGURE))]
FaceDataReader = Annotated[Principal, Depends(authorize(Perm.FACE_DATA_READ))]
Officer = Annotated[Principal, Depends(authorize(Perm.PRIVACY_REQUEST))]
SitePath = Annotated[str, Path(min_length=2, max_length=32, description="案场代码")]


def _out(site_id: str, row: SiteFaceSetting | None) -> SiteFacesOut:
    if row is None:
        return SiteFacesOut(site_id=site_id, enabled=False, signage_text=None,
                            capture_area=None, notice_version=None, crop_retention_days=0,
                            changed_by=None, changed_at=None)
    return SiteFacesOut.model_validate(row, from_attributes=True)


@router.get("/sites/{site_id}", response_model=SiteFacesOut, summary="案场的人脸识别设置")
def get_site_faces(site_id: SitePath, session: SessionDep,
                   principal: FacesReader) -> SiteFacesOut:
    return _out(site_id, face_settings.get(session, principal=principal, site_id=site_id))


@router.put("/sites/{site_id}", response_model=SiteFacesOut,
            summary="开启或关闭案场的人脸识别（开启须填告示牌文字、采集区域与告知书版本；留痕）")
def put_site_faces(site_id: SitePath, body: SiteFacesIn, session: SessionDep,
                   principal: FacesConfigurer) -> SiteFacesOut:
    row = face_settings.update(session, principal=principal, site_id=site_id, data=body)
    return _out(site_id, row)


@router.get("/count", response_model=FaceCountOut,
            summary="存有人脸数据的去重人数（全部案场）与告警状态")
def face_count(session: SessionDep, principal: FacesReader,
               settings: SettingsDep) -> FaceCountOut:
    row = counter.current(session)
    return FaceCountOut(
        persons=row.persons, counted_at=row.counted_at, warning_at=settings.face_count_warning,
        filing_at=settings.face_count_filing,
        level=counter.level(settings, row.persons),
        warning_since=row.warning_since, filing_since=row.filing_since)


@router.get("/customers/{customer_id}", response_model=FaceDataOut,
            summary="客户的人脸授权记录与识别时间线（查看留痕）")
def customer_faces(customer_id: IdPath, session: SessionDep,
                   principal: FaceDataReader) -> FaceDataOut:
    return service.customer_face_data(session, principal=principal, customer_id=customer_id)


def _request(session: Session, request_id: int) -> SubjectRequest:
    found = session.get(SubjectRequest, request_id)
    if found is None:
        raise FaceRequestNotFound()
    return found


@router.get("/erasures/{request_id}", response_model=list[FaceErasureOut],
            summary="删除请求中各案场人脸数据的删除回执（期限：请求的答复期限）")
def request_erasures(request_id: IdPath, session: SessionDep,
                     principal: Officer) -> list[FaceErasureOut]:
    _request(session, request_id)
    now = utcnow()
    return [FaceErasureOut(site_id=r.site_id, request_id=r.request_id,
                           person_ref=r.person_ref, sent_at=r.sent_at, due_at=r.due_at,
                           erased_at=r.erased_at,
                           state=erasure.state(r, now))
            for r in erasure.of_request(session, request_id)]
