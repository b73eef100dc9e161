"""Routes of appeals (申诉) and the broker's notifications."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response, UploadFile
from sqlmodel import Session

from cloud.channel import appeals, evidence, notifications
from cloud.channel.appeal_models import Appeal, AppealEvidence, ReferralOverride
from cloud.channel.casework_schemas import (
    AppealDecisionIn,
    AppealDetail,
    AppealIn,
    AppealOut,
    AppealState,
    EvidenceOut,
    NotificationOut,
    OverrideOut,
    ReadIn,
    UnreadOut,
)
from cloud.channel.errors import EvidenceTooLarge
from cloud.channel.evidence_store import EvidenceStore
from cloud.channel.models import Referral
from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from cloud.settings import CloudSettings
from shared.bounds import DB_INT_MAX, IdPath
from shared.inputguard import UploadRoute

router = DomainRouter(prefix="/channel", tags=["channel 申诉"])

Appellant = Annotated[Principal, Depends(authorize(Perm.APPEAL_CREATE))]
AppealReader = Annotated[Principal, Depends(authorize(Perm.APPEAL_READ))]
AppealDecider = Annotated[Principal, Depends(authorize(Perm.APPEAL_DECIDE))]
NotificationReader = Annotated[Principal, Depends(authorize(Perm.NOTIFICATION_READ))]
BeforeId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="上一页最后一条的 id")]
Limit = Annotated[int, Query(ge=1, le=200)]


# Room for the multipart framing around the file itself.
_MULTIPART_OVERHEAD = 16 * 1024


def evidence_upload_route(prefix: str, settings: CloudSettings) -> UploadRoute:
    """The input guard's limit for evidence uploads (its 64 KiB default is for JSON)."""
    return UploadRoute(
        path=re.compile(re.escape(prefix) + r"/channel/appeals/[0-9]+/evidence"),
        max_bytes=settings.evidence_max_bytes + _MULTIPART_OVERHEAD,
        code=EvidenceTooLarge.code,
        detail=evidence.too_large_text(settings.evidence_max_bytes))


def _store(request: Request) -> EvidenceStore:
    store: EvidenceStore = request.app.state.evidence_store
    return store


StoreDep = Annotated[EvidenceStore, Depends(_store)]


def _out(a: Appeal) -> AppealOut:
    return AppealOut.model_validate(a, from_attributes=True)


def _evidence(e: AppealEvidence) -> EvidenceOut:
    return EvidenceOut.model_validate(e, from_attributes=True)


def _detail(session: Session, a: Appeal) -> AppealDetail:
    referral = session.get(Referral, a.referral_id)
    assert referral is not None
    override = session.get(ReferralOverride, a.override_id) if a.override_id else None
    return AppealDetail(
        **_out(a).model_dump(),
        evidence=[_evidence(e) for e in evidence.of_appeal(session, a.id or 0)],
        override=OverrideOut.model_validate(override, from_attributes=True)
        if override else None,
        referral_phone_masked=referral.phone_masked, referral_state=referral.state)


@router.get("/appeals", response_model=list[AppealOut],
            summary="申诉列表（经纪人只看自己的，渠道公司管理员看本公司的，渠道经理看所辖项目的）")
def list_appeals(session: SessionDep, principal: AppealReader,
                 project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
                 state: AppealState | None = None, before_id: BeforeId = None,
                 limit: Limit = 50) -> list[AppealOut]:
    return [_out(a) for a in appeals.list_appeals(
        session, principal=principal, project_id=project_id, state=state, limit=limit,
        before_id=before_id)]


@router.post("/appeals", response_model=AppealDetail, status_code=201,
             summary="对自己的报备提起申诉（报备申诉 / 成交申诉），须在申诉期限内")
def submit_appeal(body: AppealIn, session: SessionDep, principal: Appellant) -> AppealDetail:
    appeal = appeals.submit(session, principal=principal, data=appeals.NewAppeal(
        referral_id=body.referral_id, kind=body.kind, reason=body.reason))
    return _detail(session, appeal)


@router.get("/appeals/{appeal_id}", response_model=AppealDetail,
            summary="一条申诉：材料、状态与处理结果")
def get_appeal(appeal_id: IdPath, session: SessionDep, principal: AppealReader) -> AppealDetail:
    return _detail(session, appeals.get(session, principal=principal, appeal_id=appeal_id))


@router.post("/appeals/{appeal_id}/evidence", response_model=EvidenceOut, status_code=201,
             summary="上传申诉材料（图片或 PDF，大小有上限）",
             responses={413: {"description": "文件过大"}, 415: {"description": "类型不允许"}})
def upload_evidence(appeal_id: IdPath, file: UploadFile, session: SessionDep,
                          principal: Appellant, settings: SettingsDep,
                          store: StoreDep) -> EvidenceOut:
    # One byte past the limit is enough to refuse; the rest is never read into memory.
    data = file.file.read(settings.evidence_max_bytes + 1)
    appeal = appeals.own_open(session, principal=principal, appeal_id=appeal_id)
    row = evidence.add(session, store=store, principal=principal, appeal=appeal,
                       upload=evidence.Upload(data, file.filename),
                       max_bytes=settings.evidence_max_bytes)
    return _evidence(row)


@router.get("/appeals/{appeal_id}/evidence/{evidence_id}", response_class=Response,
            summary="下载申诉材料（记入审计）",
            responses={200: {"content": {"image/*": {}, "application/pdf": {}}}})
def download_evidence(appeal_id: IdPath, evidence_id: IdPath, session: SessionDep,
                      principal: AppealReader, store: StoreDep) -> Response:
    appeal = appeals.get(session, principal=principal, appeal_id=appeal_id)
    row, data = evidence.read(session, store=store, principal=principal, appeal=appeal,
                              evidence_id=evidence_id)
    return Response(content=data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"evidence-{row.id}\"; "
                               f"filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.post("/appeals/{appeal_id}/withdraw", response_model=AppealOut, summary="撤回申诉")
def withdraw_appeal(appeal_id: IdPath, session: SessionDep, principal: Appellant) -> AppealOut:
    return _out(appeals.withdraw(session, principal=principal, appeal_id=appeal_id))


@router.post("/appeals/{appeal_id}/review", response_model=AppealOut, summary="开始审核申诉")
def review_appeal(appeal_id: IdPath, session: SessionDep, principal: AppealDecider) -> AppealOut:
    return _out(appeals.start_review(session, principal=principal, appeal_id=appeal_id))


@router.post("/appeals/{appeal_id}/decision", response_model=AppealDetail,
             summary="处理申诉：成立（可改判报备状态，记为人工改判）或驳回，通知经纪人")
def decide_appeal(appeal_id: IdPath, body: AppealDecisionIn, session: SessionDep,
                  principal: AppealDecider, settings: SettingsDep) -> AppealDetail:
    appeal = appeals.decide(session, principal=principal, settings=settings,
                            appeal_id=appeal_id,
                            decision=appeals.Decision(body.outcome, body.comment,
                                                      body.new_state))
    return _detail(session, appeal)


@router.get("/notifications/mine", response_model=list[NotificationOut],
            summary="我的消息（申诉结果、归属作废等，新的在前）")
def my_notifications(session: SessionDep, principal: NotificationReader,
                     before_id: BeforeId = None, limit: Limit = 50) -> list[NotificationOut]:
    return [NotificationOut.model_validate(n, from_attributes=True)
            for n in notifications.mine(session, principal.user_id, limit=limit,
                                        before_id=before_id)]




@router.get("/notifications/mine/unread", response_model=UnreadOut,
            summary="我的未读消息数（经纪人端角标）")
def my_unread(session: SessionDep, principal: NotificationReader) -> UnreadOut:
    return UnreadOut(unread=notifications.unread(session, principal.user_id))


@router.post("/notifications/mine/read", response_model=UnreadOut,
             summary="标记我的消息为已读：指定的几条，或全部")
def read_notifications(body: ReadIn, session: SessionDep,
                       principal: NotificationReader) -> UnreadOut:
    marked = notifications.mark_read(session, principal.user_id,
                                     None if body.all else body.ids)
    return UnreadOut(unread=notifications.unread(session, principal.user_id), marked=marked)
