"""The data-subject request workflow: register, gather the subject's data, correct, erase,
refuse or complete — each step audited, each request answered within its deadline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from cloud.audit import service as audit_service
from cloud.catalog.models import Project
from cloud.channel.evidence_store import EvidenceStore
from cloud.channel.leads import erase_leads
from cloud.channel.subject import erase_evidence, erase_referrals, leads_of, referrals_of
from cloud.faces.erasure import request_erasure
from cloud.faces.service import subject_faces
from cloud.identity.deps import Principal
from cloud.privacy.deadline import answer_due
from cloud.privacy.models import SubjectRequest
from cloud.privacy.schemas import (
    SubjectCall,
    SubjectCustomer,
    SubjectData,
    SubjectFollowUp,
    SubjectLead,
    SubjectReferral,
    SubjectRequestIn,
    SubjectVisit,
)
from cloud.reception.calls import calls_of, erase_calls
from cloud.reception.regions import erase_profiles
from cloud.sales.analysis_labels import intention
from cloud.sales.free_text import intent_of, note_of
from cloud.sales.models import ERASED_MASK, ERASED_PREFIX, Customer, FollowUp, Visit
from cloud.sales.service import NAME_CONTEXT, PHONE_CONTEXT, decrypt_name
from cloud.settings import CloudSettings
from cloud.sync.feed import announce_customer, announce_erasure
from shared.errors import Conflict, NotFound
from shared.phone import mask_phone, normalise_phone
from shared.timeutil import as_utc, utcnow

DETAIL_CONTEXT = "subject_request.detail"
# A customer at 认筹 or later is party to a transaction whose records the law requires to
# be kept; their data cannot be erased on request (the refusal gives this reason).
RETAINED_STATUSES = frozenset({"pledged", "subscribed", "contracted"})


class SubjectRequestNotFound(NotFound):
    code = "subject_request_not_found"
    title = "个人信息请求不存在"


class SubjectRequestClosed(Conflict):
    code = "subject_request_closed"
    title = "该请求已办结，不能再办理"


class WrongRequestKind(Conflict):
    code = "subject_request_wrong_kind"
    title = "该操作与请求类型不符"


class LegalRetention(Conflict):
    code = "subject_legal_retention"
    title = "申请人有认筹或成交记录，依法需保留，不能删除；请以“依法需保留”拒绝并告知理由"


@dataclass(frozen=True)
class Erasure:
    request: SubjectRequest
    customers: int
    visits: int
    notes: int


def overdue(request: SubjectRequest) -> bool:
    return request.status == "open" and as_utc(request.due_at) < utcnow()


def create(session: Session, *, principal: Principal, settings: CloudSettings,
           data: SubjectRequestIn) -> SubjectRequest:
    phone = normalise_phone(data.phone)
    now = utcnow()
    request = SubjectRequest(
        kind=data.kind, channel=data.channel,
        phone_enc=settings.cipher.encrypt(phone, context=PHONE_CONTEXT),
        phone_bidx=settings.blind_index.phone(phone), phone_masked=mask_phone(phone),
        detail_enc=settings.cipher.encrypt(data.detail, context=DETAIL_CONTEXT)
        if data.detail else None,
        received_at=now, due_at=answer_due(now), created_by=principal.user_id)
    session.add(request)
    session.flush()
    _audit(session, principal, request, action="privacy.request_create")
    return request


def list_requests(session: Session, *, status: str | None = None,
                  only_overdue: bool = False) -> Sequence[SubjectRequest]:
    query = select(SubjectRequest).order_by(col(SubjectRequest.due_at), col(SubjectRequest.id))
    if status is not None:
        query = query.where(SubjectRequest.status == status)
    if only_overdue:
        query = query.where(SubjectRequest.status == "open",
                            col(SubjectRequest.due_at) < utcnow())
    return session.exec(query).all()


def get(session: Session, request_id: int) -> SubjectRequest:
    request = session.get(SubjectRequest, request_id)
    if request is None:
        raise SubjectRequestNotFound()
    return request


def detail_text(settings: CloudSettings, request: SubjectRequest) -> str | None:
    if request.detail_enc is None:
        return None
    return settings.cipher.decrypt(request.detail_enc, context=DETAIL_CONTEXT)


def _open(session: Session, request_id: int, *kinds: str) -> SubjectRequest:
    request = get(session, request_id)
    if request.status != "open":
        raise SubjectRequestClosed()
    if kinds and request.kind not in kinds:
        raise WrongRequestKind()
    return request


def _customers(session: Session, principal: Principal,
               request: SubjectRequest) -> list[tuple[Customer, Project]]:
    """The subject's customer records in every project the handler may see."""
    if request.phone_bidx is None:
        return []
    rows = session.exec(
        select(Customer, Project).join(Project, col(Project.id) == col(Customer.project_id))
        .where(Customer.phone_bidx == request.phone_bidx).order_by(col(Customer.id))
    ).all()
    return [(c, p) for c, p in rows if principal.sees_site(p.site_id)]


def _visible_projects(session: Session, principal: Principal) -> list[int]:
    return [p.id for p in session.exec(select(Project)).all()
            if p.id is not None and principal.sees_site(p.site_id)]


def subject_data(session: Session, *, principal: Principal, settings: CloudSettings,
                 request_id: int) -> SubjectData:
    """Everything held about the subject, unmasked: the answer to an access or copy
    request. Reading it is audited like any unmasking."""
    request = _open(session, request_id)
    found = _customers(session, principal, request)
    ids = [c.id for c, _ in found]
    visits = session.exec(select(Visit).where(col(Visit.customer_id).in_(ids))
                          .order_by(col(Visit.occurred_at))).all()
    notes = session.exec(select(FollowUp).where(col(FollowUp.customer_id).in_(ids))
                         .order_by(col(FollowUp.occurred_at))).all()
    customers = [
        SubjectCustomer(
            customer_id=c.id or 0, project_id=c.project_id, project_name=p.name,
            phone=settings.cipher.decrypt(c.phone_enc, context=PHONE_CONTEXT),
            name=decrypt_name(settings, c), status=c.status,
            first_visit_at=c.first_visit_at, last_visit_at=c.last_visit_at,
            visits=[SubjectVisit(id=v.id, site_id=v.site_id, visit_date=v.visit_date,
                                 occurred_at=v.occurred_at, party_size=v.party_size,
                                 source=v.source, intent=intent_of(settings, v),
                                 consent_notice_version=v.consent_notice_version,
                                 consent_method=v.consent_method,
                                 consent_accepted_at=v.consent_accepted_at)
                    for v in visits if v.customer_id == c.id],
            follow_ups=[SubjectFollowUp(id=f.id, kind=f.kind, reached=f.reached,
                                        note=note_of(settings, f),
                                        occurred_at=f.occurred_at)
                        for f in notes if f.customer_id == c.id])
        for c, p in found
    ]
    projects = {p.id: p.name for p in session.exec(select(Project)).all()
                if p.id is not None and principal.sees_site(p.site_id)}
    referrals = _referrals(session, settings, request, projects)
    leads = _leads(session, settings, request, projects)
    calls = _calls(session, settings, request, projects)
    faces = subject_faces(session, [i for i in ids if i is not None])
    _audit(session, principal, request, action="privacy.subject_data",
           detail={"customers": len(customers), "referrals": len(referrals),
                   "leads": len(leads), "calls": len(calls), "faces": len(faces),
                   "kind": request.kind})
    return SubjectData(request_id=request.id or 0, customers=customers, referrals=referrals,
                       leads=leads, calls=calls, faces=faces)


def _calls(session: Session, settings: CloudSettings, request: SubjectRequest,
           projects: dict[int, str]) -> list[SubjectCall]:
    if request.phone_bidx is None:
        return []
    return [SubjectCall(
        id=s.call.id, project_id=s.call.project_id, project_name=projects[s.call.project_id],
        phone=s.phone, name=s.name, awareness=s.call.awareness,
        awareness_name=intention("awareness", s.call.awareness),
        occurred_at=s.call.occurred_at)
        for s in calls_of(session, settings, phone_bidx=request.phone_bidx,
                          project_ids=projects.keys())]


def _leads(session: Session, settings: CloudSettings, request: SubjectRequest,
           projects: dict[int, str]) -> list[SubjectLead]:
    if request.phone_bidx is None:
        return []
    return [SubjectLead(
        id=s.lead.id or 0, project_id=s.lead.project_id,
        project_name=projects[s.lead.project_id], agency_name=s.agency_name, name=s.name,
        phone=s.phone, consent_version=s.lead.consent_version, created_at=s.lead.created_at,
        referral_id=s.lead.referral_id)
        for s in leads_of(session, settings, phone_bidx=request.phone_bidx,
                          project_ids=projects.keys())]


def _referrals(session: Session, settings: CloudSettings, request: SubjectRequest,
               projects: dict[int, str]) -> list[SubjectReferral]:
    if request.phone_bidx is None:
        return []
    return [SubjectReferral(
        id=s.referral.id or 0, project_id=s.referral.project_id,
        project_name=projects[s.referral.project_id], agency_name=s.agency_name,
        name=s.name, phone=s.phone, state=s.referral.state,
        reason_code=s.referral.reason_code, created_at=s.referral.created_at)
        for s in referrals_of(session, settings, phone_bidx=request.phone_bidx,
                              project_ids=projects.keys())]


def correct_name(session: Session, *, principal: Principal, settings: CloudSettings,
                 request_id: int, name: str) -> SubjectRequest:
    """A correction: the subject's name on every record, announced to the appliances."""
    request = _open(session, request_id, "correction")
    found = _customers(session, principal, request)
    for customer, _ in found:
        customer.name_enc = settings.cipher.encrypt(name, context=NAME_CONTEXT)
        session.add(customer)
        announce_customer(session, settings, customer)
    _close(request, principal, "completed", f"已更正 {len(found)} 条客户记录的姓名")
    _audit(session, principal, request, action="privacy.correct",
           detail={"field": "name", "customers": len(found)})
    return request


def erase(session: Session, *, principal: Principal, settings: CloudSettings,
          store: EvidenceStore, request_id: int) -> Erasure:
    """A deletion: phone and name gone from every record, free text cleared; visits stay
    for the statistics with nobody behind them (with their consent record, which names
    no one). Appliances are told to erase their copies (cached customer, visits,
    follow-ups); the request keeps only the masked number."""
    request = _open(session, request_id, "deletion")
    found = _customers(session, principal, request)
    if any(c.status in RETAINED_STATUSES for c, _ in found):
        raise LegalRetention()
    ids = [c.id for c, _ in found]
    # The sites holding the subject's face data are told to erase it (face.erase) and
    # answer; the answers are tracked on the request (cloud.faces.erasure).
    faces = request_erasure(session, subject_request_id=request.id or 0,
                            due_at=request.due_at, customer_ids=[i for i in ids if i])
    for customer, _ in found:
        customer.name_enc = None
        customer.phone_masked = ERASED_MASK
        # The appliance drops its cached row and anonymises the visits and follow-ups it
        # keeps of this customer (under the old key, while the phone is still known).
        announce_erasure(session, settings, customer)
        tombstone = f"{ERASED_PREFIX}{uuid.uuid4().hex}"
        customer.phone_enc = settings.cipher.encrypt("", context=PHONE_CONTEXT)
        customer.phone_bidx = customer.phone34_bidx = tombstone
        session.add(customer)
    visits = session.exec(select(Visit).where(col(Visit.customer_id).in_(ids))).all()
    for visit in visits:
        visit.intent_enc = None
        session.add(visit)
    erase_profiles(session, [v.id for v in visits])
    notes = session.exec(select(FollowUp).where(col(FollowUp.customer_id).in_(ids))).all()
    for note in notes:
        note.note_enc = None
        session.add(note)
    projects = _visible_projects(session, principal)
    # The appeals' evidence files first: they are found through the referrals' index.
    files = erase_evidence(session, store, phone_bidx=request.phone_bidx,
                           project_ids=projects) if request.phone_bidx else 0
    referrals = erase_referrals(
        session, settings, phone_bidx=request.phone_bidx or "", erased_mask=ERASED_MASK,
        project_ids=projects) if request.phone_bidx else 0
    leads = erase_leads(
        session, settings, phone_bidx=request.phone_bidx or "", erased_mask=ERASED_MASK,
        erased_prefix=ERASED_PREFIX, project_ids=projects) if request.phone_bidx else 0
    calls = erase_calls(
        session, settings, phone_bidx=request.phone_bidx or "", erased_mask=ERASED_MASK,
        erased_prefix=ERASED_PREFIX, project_ids=projects,
        announced={c.project_id for c, _ in found}) if request.phone_bidx else 0
    request.phone_enc = request.phone_bidx = request.detail_enc = None
    _close(request, principal, "completed",
           f"已删除 {len(found)} 条客户记录的个人信息（到访统计匿名保留）"
           + (f"；{referrals} 条渠道报备中的号码和姓名已清除" if referrals else "")
           + (f"；{files} 个申诉材料文件已删除" if files else "")
           + (f"；已通知案场删除 {faces} 条人脸数据" if faces else ""))
    _audit(session, principal, request, action="privacy.erase",
           detail={"customers": len(found), "visits": len(visits), "notes": len(notes),
                   "referrals": referrals, "leads": leads, "calls": calls,
                   "evidence_files": files,
                   "face_entries": faces})
    return Erasure(request, len(found), len(visits), len(notes))


def complete(session: Session, *, principal: Principal, request_id: int,
             resolution: str) -> SubjectRequest:
    """Access and copy requests end here, once the data has been handed over."""
    request = _open(session, request_id, "access", "copy")
    _close(request, principal, "completed", resolution)
    _audit(session, principal, request, action="privacy.complete")
    return request


def refuse(session: Session, *, principal: Principal, request_id: int, code: str,
           reason: str) -> SubjectRequest:
    request = _open(session, request_id)
    request.refusal_code = code
    _close(request, principal, "refused", reason)
    _audit(session, principal, request, action="privacy.refuse",
           detail={"code": code})
    return request


def _close(request: SubjectRequest, principal: Principal, status: str, resolution: str) -> None:
    request.status = status
    request.resolution = resolution
    request.handled_by = principal.user_id
    request.closed_at = utcnow()


def _audit(session: Session, principal: Principal, request: SubjectRequest, *, action: str,
           detail: dict[str, object] | None = None) -> None:
    session.add(request)
    session.flush()
    audit_service.record(
        session, action=action, principal=principal, ip=principal.ip,
        object_type="subject_request", object_id=str(request.id),
        detail={"kind": request.kind, "phone": request.phone_masked, **(detail or {})})
