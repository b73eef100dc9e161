from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from cloud.db import SessionDep
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.sales import follow_ups, service
from cloud.sales.models import Customer, FollowUp
from cloud.sales.schemas import (
    CustomerPublic,
    FollowUpPublic,
    UnmaskedContact,
    UnmaskRequest,
    VisitPage,
    VisitPublic,
)
from cloud.settings import CloudSettings
from shared.events import check_follow_up_key
from shared.names import mask_name

router = APIRouter(tags=["sales 客户与到访"])

VisitReader = Annotated[Principal, Depends(authorize(Perm.VISIT_READ))]
CustomerReader = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_READ))]
CustomerUnmasker = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_UNMASK))]
ContactRevealer = Annotated[Principal, Depends(authorize(Perm.CUSTOMER_CONTACT))]
FollowUpWriter = Annotated[Principal, Depends(authorize(Perm.FOLLOW_UP_CREATE))]
FollowUpReader = Annotated[Principal, Depends(authorize(Perm.FOLLOW_UP_READ))]


def _customer_public(settings: CloudSettings, c: Customer) -> CustomerPublic:
    assert c.id is not None
    return CustomerPublic(
        id=c.id, project_id=c.project_id, name_masked=mask_name(service.decrypt_name(settings, c)),
        phone_masked=c.phone_masked, owner_id=c.owner_id, status=c.status,
        visit_count=c.visit_count, first_visit_at=c.first_visit_at,
        last_visit_at=c.last_visit_at, protection_until=c.protection_until,
    )


@router.get("/visits", response_model=VisitPage)
def list_visits(
    session: SessionDep, principal: VisitReader, settings: SettingsDep,
    site_id: str | None = None, project_id: int | None = None,
    date_from: date | None = None, date_to: date | None = None,
    cursor: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=200),
) -> VisitPage:
    rows, next_cursor = service.list_visits(
        session, principal=principal,
        filters=service.VisitFilter(site_id, project_id, date_from, date_to),
        cursor=cursor, limit=limit,
    )
    items = [
        VisitPublic(
            id=v.id, site_id=v.site_id, project_id=v.project_id, customer_id=v.customer_id,
            customer_name_masked=mask_name(service.decrypt_name(settings, c)),
            phone_masked=c.phone_masked, consultant_id=v.consultant_id,
            consultant_name=consultant, party_size=v.party_size, intent=v.intent,
            source=v.source, is_first_visit=v.is_first_visit, visit_date=v.visit_date,
            occurred_at=v.occurred_at, edge_occurred_at=v.edge_occurred_at,
            time_corrected=v.time_corrected,
        )
        for v, c, consultant in rows
    ]
    return VisitPage(items=items, next_cursor=next_cursor)


@router.get("/customers", response_model=list[CustomerPublic])
def search_customers(
    session: SessionDep, principal: CustomerReader, settings: SettingsDep,
    phone: str = Query(min_length=11, max_length=40),
) -> list[CustomerPublic]:
    found = service.find_customers(session, principal=principal, settings=settings, phone=phone)
    return [_customer_public(settings, c) for c in found]


@router.get("/customers/{customer_id}", response_model=CustomerPublic)
def get_customer(customer_id: int, session: SessionDep, principal: CustomerReader,
                 settings: SettingsDep) -> CustomerPublic:
    customer = service.get_customer(session, principal=principal, customer_id=customer_id)
    return _customer_public(settings, customer)


@router.post("/customers/{customer_id}/unmask", response_model=UnmaskedContact)
def unmask_customer(customer_id: int, body: UnmaskRequest, session: SessionDep,
                    principal: CustomerUnmasker, settings: SettingsDep) -> UnmaskedContact:
    phone = service.unmask_phone(session, principal=principal, settings=settings,
                                 customer_id=customer_id, reason=body.reason)
    customer = service.get_customer(session, principal=principal, customer_id=customer_id)
    return UnmaskedContact(customer_id=customer_id, phone=phone,
                           name=service.decrypt_name(settings, customer))


@router.post("/customers/{customer_id}/contact", response_model=UnmaskedContact,
             summary="查看自己名下客户的完整号码以便拨打（记入审计）")
def reveal_contact(customer_id: int, body: UnmaskRequest, session: SessionDep,
                   principal: ContactRevealer, settings: SettingsDep) -> UnmaskedContact:
    customer, phone = service.reveal_for_contact(
        session, principal=principal, settings=settings, customer_id=customer_id,
        reason=body.reason)
    return UnmaskedContact(customer_id=customer_id, phone=phone,
                           name=service.decrypt_name(settings, customer))


def _follow_up_public(row: FollowUp, consultant_name: str | None) -> FollowUpPublic:
    return FollowUpPublic.model_validate(
        {**row.model_dump(), "consultant_name": consultant_name})


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
    return _follow_up_public(row, principal.display_name)  # a replay is the caller's own


@router.get("/follow-ups", response_model=list[FollowUpPublic], summary="客户的跟进记录")
def list_follow_ups(
    session: SessionDep, principal: FollowUpReader,
    customer_id: int = Query(ge=1),
    limit: int = Query(follow_ups.MAX_LIST, ge=1, le=follow_ups.MAX_LIST),
) -> list[FollowUpPublic]:
    rows = follow_ups.list_for_customer(
        session, principal=principal, customer_id=customer_id, limit=limit)
    return [_follow_up_public(row, name) for row, name in rows]
