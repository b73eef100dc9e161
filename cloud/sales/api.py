from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Query, Response, status

from cloud.audit import service as audit_service
from cloud.db import SessionDep
from cloud.downloads import EXPORT_MAX_ROWS, XLSX_MEDIA_TYPE, attachment, beijing_stamp
from cloud.identity import roster
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from cloud.sales import export, follow_ups, service, timeline, visits
from cloud.sales.free_text import intent_of, note_of
from cloud.sales.models import Customer, FollowUp
from cloud.sales.schemas import (
    ConsultantOption,
    CustomerCard,
    CustomerPublic,
    CustomerTimeline,
    FollowUpEntry,
    FollowUpPublic,
    UnmaskedContact,
    UnmaskRequest,
    VisitConsentPublic,
    VisitEntry,
    VisitPage,
    VisitPublic,
)
from cloud.settings import CloudSettings
from shared.bounds import DB_INT_MAX, IdPath
from shared.events import check_follow_up_key

router = DomainRouter(tags=["sales 客户与到访"])

VisitReader = Annotated[Principal, Depends(authorize(Perm.VISIT_READ))]
VisitExporter = Annotated[Principal, Depends(authorize(Perm.VISIT_EXPORT))]
CustomerReader = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_READ))]
TimelineReader = Annotated[Principal, Depends(authorize(
    Perm.CUSTOMER_READ, Perm.VISIT_READ, Perm.FOLLOW_UP_READ))]
CustomerUnmasker = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_UNMASK))]
ContactRevealer = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_CONTACT))]
FollowUpWriter = Annotated[Principal, Depends(authorize(Perm.FOLLOW_UP_CREATE))]
FollowUpReader = Annotated[Principal, Depends(authorize(Perm.FOLLOW_UP_READ))]


def _customer_public(settings: CloudSettings, c: service.ShownCustomer | Customer
                     ) -> CustomerPublic:
    assert c.id is not None
    return CustomerPublic(
        id=c.id, project_id=c.project_id, name_masked=service.masked_name(settings, c),
        phone_masked=c.phone_masked, owner_id=c.owner_id, status=c.status,
        visit_count=c.visit_count, first_visit_at=c.first_visit_at,
        last_visit_at=c.last_visit_at, protection_until=c.protection_until,
    )


async def visit_filter(
    # async: it does no I/O, and a synchronous dependency costs a thread-pool hop.
    settings: SettingsDep,
    site_id: Annotated[str | None, Query(max_length=32)] = None,
    project_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    date_from: Annotated[date | None, Query(description="到访日期起（北京时间，含）")] = None,
    date_to: Annotated[date | None, Query(description="到访日期止（北京时间，含）")] = None,
    phone: Annotated[str | None, Query(
        max_length=40,
        description="完整手机号（可带 +86、空格、横线）或脱敏形式 138****5678")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    consultant_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    first_visit: Annotated[bool | None, Query(description="true 只看首访，false 只看复访")] = None,
) -> visits.VisitFilter:
    return visits.VisitFilter(
        site_id=site_id, project_id=project_id, date_from=date_from, date_to=date_to,
        phone=visits.PhoneCriterion.parse(settings, phone) if phone else None,
        customer_id=customer_id, consultant_id=consultant_id, first_visit=first_visit,
    )


VisitFilterDep = Annotated[visits.VisitFilter, Depends(visit_filter)]


@router.get("/visits", response_model=VisitPage, summary="查询到访（新的在前）")
def list_visits(
    session: SessionDep, principal: VisitReader, settings: SettingsDep, filters: VisitFilterDep,
    cursor: Annotated[str | None, Query(max_length=100, description="上一页的 next_cursor")] = None,
    page: Annotated[int | None, Query(
        ge=1, le=visits.MAX_PAGE_DEPTH,
        description=f"页码（从 1 开始），用于跳页；page × limit 不超过 "
                    f"{visits.MAX_PAGE_DEPTH}，不能与 cursor 同时使用")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> VisitPage:
    found = visits.list_page(session, principal=principal, filters=filters, limit=limit,
                             cursor=cursor, page=page)
    items = [
        VisitPublic(
            id=v.id, site_id=v.site_id, project_id=v.project_id, customer_id=v.customer_id,
            customer_name_masked=service.masked_name(settings, v),
            phone_masked=v.phone_masked, consultant_id=v.consultant_id,
            consultant_name=v.consultant_name, party_size=v.party_size,
            intent=intent_of(settings, v),
            source=v.source, is_first_visit=v.is_first_visit, visit_date=v.visit_date,
            occurred_at=v.occurred_at, edge_occurred_at=v.edge_occurred_at,
            time_corrected=v.time_corrected, consent=VisitConsentPublic.of(v),
            broker_id=v.broker_id, referral_id=v.referral_id,
        )
        for v in found.rows
    ]
    return VisitPage(items=items, next_cursor=found.next_cursor, total=found.total)


@router.get("/visits/export", summary="导出到访（Excel，号码与姓名脱敏）", response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}},
                             "description": f"XLSX，最多 {EXPORT_MAX_ROWS:,} 条（最新的在前）；"
                                            "X-Export-Truncated 表示是否被截断"}})
def export_visits(session: SessionDep, principal: VisitExporter, settings: SettingsDep,
                  filters: VisitFilterDep) -> Response:
    result = export.build(session, settings=settings, principal=principal, filters=filters)
    audit_service.record(
        session, action="visit.export", principal=principal, object_type="visit",
        detail={"filters": filters.as_detail(), "count": result.count,
                "truncated": result.truncated},
    )
    stamp = beijing_stamp()
    return attachment(result.content, media_type=XLSX_MEDIA_TYPE,
                      filename=f"到访记录-{stamp}.xlsx", ascii_filename=f"visits-{stamp}.xlsx",
                      truncated=result.truncated)


@router.get("/consultants", response_model=list[ConsultantOption],
            summary="数据范围内各案场的置业顾问与销售经理（供筛选）")
def list_consultants(session: SessionDep, principal: VisitReader,
                     site_id: Annotated[str | None, Query(max_length=32)] = None,
                     ) -> list[ConsultantOption]:
    sites: set[str] | None = None if principal.site_ids is None else set(principal.site_ids)
    if site_id:
        sites = {site_id} & sites if sites is not None else {site_id}
    staff = roster.site_staff(session, site_ids=sites)
    return [ConsultantOption(id=m.id, name=m.name, active=m.active, site_ids=sorted(m.site_ids))
            for m in staff]


@router.get("/customers", response_model=list[CustomerPublic])
def search_customers(
    session: SessionDep, principal: CustomerReader, settings: SettingsDep,
    phone: str = Query(min_length=11, max_length=40),
) -> list[CustomerPublic]:
    found = service.find_customers(session, principal=principal, settings=settings, phone=phone)
    return [_customer_public(settings, c) for c in found]


@router.get("/customers/{customer_id}", response_model=CustomerPublic)
def get_customer(customer_id: IdPath, session: SessionDep, principal: CustomerReader,
                 settings: SettingsDep) -> CustomerPublic:
    customer = service.show_customer(session, principal=principal, customer_id=customer_id)
    return _customer_public(settings, customer)


@router.get("/customers/{customer_id}/timeline", response_model=CustomerTimeline,
            summary="客户详情：到访与跟进时间线（新的在前）")
def customer_timeline(customer_id: IdPath, session: SessionDep, principal: TimelineReader,
                      settings: SettingsDep) -> CustomerTimeline:
    found = timeline.customer_timeline(session, principal=principal, customer_id=customer_id)
    card = CustomerCard(**_customer_public(settings, found.customer).model_dump(),
                        site_id=found.site_id, owner_name=found.owner_name)
    return CustomerTimeline(customer=card, items=[_entry(settings, e) for e in found.entries],
                            has_more=found.has_more)


def _entry(settings: CloudSettings, entry: timeline.Entry) -> VisitEntry | FollowUpEntry:
    if entry.visit is not None:
        v = entry.visit
        return VisitEntry(
            id=v.id, at=entry.at, consultant_id=v.consultant_id,
            consultant_name=entry.consultant_name, site_id=v.site_id,
            is_first_visit=v.is_first_visit, party_size=v.party_size, source=v.source,
            intent=intent_of(settings, v), time_corrected=v.time_corrected,
            consent=VisitConsentPublic.of(v), broker_id=v.broker_id, referral_id=v.referral_id)
    f = entry.follow_up
    assert f is not None
    return FollowUpEntry(
        id=f.id, at=entry.at, consultant_id=f.consultant_id,
        consultant_name=entry.consultant_name, follow_up_kind=f.kind, reached=f.reached,
        effective=f.effective, note=note_of(settings, f), next_at=f.next_at,
        recorded_via=f.recorded_via)


@router.post("/customers/{customer_id}/unmask", response_model=UnmaskedContact)
def unmask_customer(customer_id: IdPath, body: UnmaskRequest, session: SessionDep,
                    principal: CustomerUnmasker, settings: SettingsDep) -> UnmaskedContact:
    phone = service.unmask_phone(session, principal=principal, settings=settings,
                                 customer_id=customer_id, reason=body.reason)
    customer = service.get_customer(session, principal=principal, customer_id=customer_id)
    return UnmaskedContact(customer_id=customer_id, phone=phone,
                           name=service.decrypt_name(settings, customer))


@router.post("/customers/{customer_id}/contact", response_model=UnmaskedContact,
             summary="查看自己名下客户的完整号码以便拨打（记入审计）")
def reveal_contact(customer_id: IdPath, body: UnmaskRequest, session: SessionDep,
                   principal: ContactRevealer, settings: SettingsDep) -> UnmaskedContact:
    customer, phone = service.reveal_for_contact(
        session, principal=principal, settings=settings, customer_id=customer_id,
        reason=body.reason)
    return UnmaskedContact(customer_id=customer_id, phone=phone,
                           name=service.decrypt_name(settings, customer))


def _follow_up_public(settings: CloudSettings, row: FollowUp,
                      consultant_name: str | None) -> FollowUpPublic:
    return FollowUpPublic.model_validate(
        {**row.model_dump(), "note": note_of(settings, row), "consultant_name": consultant_name})


@router.post(
    "/follow-ups", response_model=FollowUpPublic, status_code=status.HTTP_201_CREATED,
    responses={200: {"model": FollowUpPublic,
                      "description": "该跟进已保存过（重试，或已经由案场设备同步）"}},
    summary="写跟进（案场设备不可达时手机直接提交；Idempotency-Key = 跟进 id）",
)
def create_follow_up(
    body: follow_ups.FollowUpIn, response: Response, session: SessionDep,
    principal: FollowUpWriter, settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> FollowUpPublic:
    check_follow_up_key(idempotency_key, body.id)
    row, created = follow_ups.create(session, settings=settings, principal=principal, data=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _follow_up_public(settings, row, principal.display_name)  # a replay is the caller's own


@router.get("/follow-ups", response_model=list[FollowUpPublic], summary="客户的跟进记录")
def list_follow_ups(
    session: SessionDep, principal: FollowUpReader, settings: SettingsDep,
    customer_id: int = Query(ge=1, le=DB_INT_MAX),
    limit: int = Query(follow_ups.MAX_LIST, ge=1, le=follow_ups.MAX_LIST),
) -> list[FollowUpPublic]:
    rows = follow_ups.list_for_customer(
        session, principal=principal, customer_id=customer_id, limit=limit)
    return [_follow_up_public(settings, row, name) for row, name in rows]
