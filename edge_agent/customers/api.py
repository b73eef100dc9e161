"""Consultant PWA routes: my customers, one customer's history, reveal to call (thin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from edge_agent.customers import search, service
from edge_agent.customers.schemas import (
    CustomerHistoryOut,
    HistoryEntryOut,
    MyCustomerOut,
    Ownership,
    RevealedOut,
    RevealIn,
    Stage,
)
from edge_agent.followups.service import note_of
from edge_agent.kiosk.deps import SettingsDep, StoreDep
from edge_agent.staff_auth.deps import StaffDep
from shared.events import VisitSource
from shared.follow_ups import follow_up_effective
from shared.payment import PaymentMethod
from shared.reception import Gender
from shared.reception_events import VisitProfile

router = APIRouter(prefix="/staff", tags=["staff 顾问手机"])

CustomerKey = Annotated[str, Path(max_length=80, description="客户键：项目 id:盲索引")]


def _out(c: service.MyCustomer) -> MyCustomerOut:
    return MyCustomerOut(
        key=c.key, project_id=c.project_id, phone_masked=c.phone_masked,
        name_masked=c.name_masked, visit_count=c.visit_count,
        last_visit_at=c.last_visit_at, last_effective_at=c.last_effective_at,
        due_day=c.due.due_day if c.due else None,
        follow_state=c.due.state if c.due else None,
        protection_until=c.protection_until, customer_ref=c.customer_ref,
        provisional=c.provisional, first_visit_at=c.first_visit_at,
        return_visits=max(c.visit_count - 1, 0), status=c.status, ownership=c.ownership,
        payment_method=c.payment_method, source=c.source,
        profile=VisitProfile.model_validate(c.profile), phone_region=c.phone_region,
    )


@router.get("/customers", response_model=list[MyCustomerOut],
            summary="我的客户：筛选与按手机号或姓名搜索（按跟进紧急程度）")
async def my_customers(
    request: Request, staff: StaffDep, store: StoreDep, settings: SettingsDep,
    state: Annotated[Literal["all", "attention"], Query(
        description="all 全部 / attention 待跟进与逾期")] = "all",
    q: Annotated[str | None, Query(
        max_length=search.SEARCH_MAX,
        description="完整手机号、号码后 4 位或姓名（每次搜索记入审计）")] = None,
    status: Annotated[list[Stage] | None, Query(description="销售阶段，可多选")] = None,
    gender: Gender | None = None,
    source: VisitSource | None = None,
    visits: Annotated[search.VisitsFilter | None, Query(
        description="first 仅首访 / returned 有复访")] = None,
    ownership: Annotated[Ownership | None, Query(description="有效性")] = None,
    payment_method: PaymentMethod | None = None,
) -> list[MyCustomerOut]:
    criteria = search.CustomerFilter(
        status=frozenset(status or ()), gender=gender, source=source, visits=visits,
        ownership=ownership, payment_method=payment_method)
    found = await search.find(store, settings, staff, request.app.state.lookup_limiter,
                              criteria=criteria, q=q)
    if state == "attention":
        found = [c for c in found if c.due is not None and c.due.state != "ok"]
    return [_out(c) for c in found]


@router.get("/customers/{key}", response_model=CustomerHistoryOut, summary="客户与跟进记录")
async def customer_history(
    key: CustomerKey, staff: StaffDep, store: StoreDep, settings: SettingsDep
) -> CustomerHistoryOut:
    customer, entries = await service.customer_history(store, settings, staff, key)
    history = []
    for e in entries:
        if e.visit is not None:
            history.append(HistoryEntryOut(
                kind="visit", at=e.at, consultant_id=e.consultant_id, visit_id=e.visit.id,
                party_size=e.visit.party_size, classification=e.visit.classification))
        elif e.follow_up is not None:
            f = e.follow_up
            history.append(HistoryEntryOut(
                kind="follow_up", at=e.at, consultant_id=e.consultant_id, follow_up_id=f.id,
                follow_up_kind=f.kind,
                reached=f.reached, effective=follow_up_effective(f.kind, f.reached),
                note=note_of(settings, f)))
    return CustomerHistoryOut(customer=_out(customer), history=history)


@router.post("/customers/{key}/reveal", response_model=RevealedOut,
             summary="查看完整号码以便拨打（记入审计）")
async def reveal_contact(
    key: CustomerKey, body: RevealIn, staff: StaffDep, store: StoreDep, settings: SettingsDep
) -> RevealedOut:
    revealed = await service.reveal_contact(store, settings, staff, key, body.reason)
    return RevealedOut(phone=revealed.phone, name=revealed.name)
