"""Routes of deal documents (认筹 / 认购 / 签约), their changes and payments, and the
opening-day call queue (开盘选房)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from cloud.db import SessionDep
from cloud.deals import buyers, changes, opening, payments, project_settings, queries, service
from cloud.deals.models import DealCall, DealSetting
from cloud.deals.schemas import (
    CallOut,
    ChangeIn,
    ChangeOut,
    CoBuyerIn,
    CoBuyersIn,
    ConvertIn,
    DealDetail,
    DealIn,
    DealOut,
    DealSettingsIn,
    DealSettingsOut,
    IdCheckIn,
    NoteIn,
    PaymentIn,
    PaymentOut,
    PickIn,
    ReasonIn,
)
from cloud.deals.states import Kind
from cloud.identity.deps import Principal, SettingsDep, authorize
from cloud.identity.permissions import Perm
from cloud.routing import DomainRouter
from shared.bounds import DB_INT_MAX, IdPath

router = DomainRouter(prefix="/deals", tags=["deals 认筹认购签约"])

Reader = Annotated[Principal, Depends(authorize(Perm.DEAL_READ))]
Seller = Annotated[Principal, Depends(authorize(Perm.DEAL_CREATE))]
Approver = Annotated[Principal, Depends(authorize(Perm.DEAL_APPROVE))]
Configurer = Annotated[Principal, Depends(authorize(Perm.DEAL_CONFIGURE))]


@router.get("/projects/{project_id}/deals", response_model=list[DealOut],
            summary="项目的交易单据（新的在前；置业顾问只看到自己的）")
def list_deals(project_id: IdPath, session: SessionDep, principal: Reader,
               settings: SettingsDep,
               status: Annotated[str | None, Query(pattern="^[a-z_]{1,16}$")] = None,
               kind: Literal["pledge", "subscription", "contract"] | None = None,
               customer_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
               before_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None
               ) -> list[DealOut]:
    return queries.listing(session, settings, principal, project_id,
                           queries.Filter(status=status, kind=kind, customer_id=customer_id,
                                          before_id=before_id))


@router.post("/projects/{project_id}/deals", response_model=DealOut, status_code=201,
             summary="保存认筹或认购（草稿）：房源即被占用，同一房源只能有一张有效单据")
def create_deal(project_id: IdPath, body: DealIn, session: SessionDep, principal: Seller,
                settings: SettingsDep) -> DealOut:
    deal = service.create(session, settings, principal, kind=Kind(body.kind),
                          project_id=project_id, customer_id=body.customer_id,
                          terms=service.Terms(unit_id=body.unit_id, buyer_name=body.buyer_name,
                                              payment_method=body.payment_method,
                                              price_fen=body.price_fen,
                                              amount_fen=body.amount_fen,
                                              co_buyers=_co_buyers(body.co_buyers)))
    return _one(session, settings, principal, deal.id)


@router.get("/{deal_id}", response_model=DealDetail)
def read_deal(deal_id: IdPath, session: SessionDep, principal: Reader,
              settings: SettingsDep) -> DealDetail:
    return queries.detail(session, settings, principal, deal_id)


@router.put("/{deal_id}/co-buyers", response_model=DealDetail,
            summary="设置共同购买人（仅草稿；号码加密保存，详情中脱敏显示）")
def set_co_buyers(deal_id: IdPath, body: CoBuyersIn, session: SessionDep, principal: Seller,
                  settings: SettingsDep) -> DealDetail:
    buyers.replace(session, settings, principal, deal_id, _co_buyers(body.co_buyers))
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/id-check", response_model=DealDetail,
             summary="登记案场证件核验（证件号只保存后 4 位与盲索引）")
def check_id(deal_id: IdPath, body: IdCheckIn, session: SessionDep, principal: Seller,
             settings: SettingsDep) -> DealDetail:
    buyers.check_id(session, settings, principal, deal_id, id_type=body.id_type,
                    id_number=body.id_number)
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/submit", response_model=DealDetail, summary="提交审批")
def submit(deal_id: IdPath, session: SessionDep, principal: Seller,
           settings: SettingsDep) -> DealDetail:
    service.submit(session, principal, deal_id)
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/approve", response_model=DealDetail,
             summary="审批通过（核对底价与折扣权限；房源、客户阶段与判客随之变化）")
def approve(deal_id: IdPath, body: NoteIn, session: SessionDep, principal: Approver,
            settings: SettingsDep) -> DealDetail:
    service.approve(session, settings, principal, deal_id, body.note)
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/reject", response_model=DealDetail, summary="驳回为草稿（须填原因）")
def reject(deal_id: IdPath, body: NoteIn, session: SessionDep, principal: Approver,
           settings: SettingsDep) -> DealDetail:
    service.reject(session, principal, deal_id, body.note)
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/cancel", response_model=DealDetail, summary="取消草稿，释放房源")
def cancel(deal_id: IdPath, body: ReasonIn, session: SessionDep, principal: Seller,
           settings: SettingsDep) -> DealDetail:
    service.cancel(session, settings, principal, deal_id, body.reason)
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/convert", response_model=DealDetail, status_code=201,
             summary="认筹转认购、认购转签约：生成下一张单据（草稿），已收款项转入")
def convert(deal_id: IdPath, body: ConvertIn, session: SessionDep, principal: Seller,
            settings: SettingsDep) -> DealDetail:
    child = service.convert(session, settings, principal, deal_id, service.Conversion(
        unit_id=body.unit_id, payment_method=body.payment_method, price_fen=body.price_fen,
        amount_fen=body.amount_fen,
        signed_at_place=(body.signing_location.lat, body.signing_location.lng)
        if body.signing_location else None, signing_source=body.signing_place_source))
    assert child.id is not None
    return queries.detail(session, settings, principal, child.id)


@router.post("/{deal_id}/void", response_model=DealDetail,
             summary="作废逾期未签约的认购（不自动退款）")
def void(deal_id: IdPath, body: ReasonIn, session: SessionDep, principal: Approver,
         settings: SettingsDep) -> DealDetail:
    service.void(session, settings, principal, deal_id, body.reason)
    return queries.detail(session, settings, principal, deal_id)


@router.post("/{deal_id}/changes", response_model=ChangeOut, status_code=201,
             summary="申请变更：退房、换房、更名、变更价格（经理审批）")
def request_change(deal_id: IdPath, body: ChangeIn, session: SessionDep, principal: Seller,
                   settings: SettingsDep) -> ChangeOut:
    return queries.change_out(changes.request(session, settings, principal, deal_id,
                                              changes.ChangeAsk(**body.model_dump())))


@router.post("/changes/{change_id}/apply", response_model=ChangeOut, summary="批准变更")
def apply_change(change_id: IdPath, body: NoteIn, session: SessionDep, principal: Approver,
                 settings: SettingsDep) -> ChangeOut:
    return queries.change_out(changes.apply(session, settings, principal, change_id,
                                            body.note))


@router.post("/changes/{change_id}/reject", response_model=ChangeOut, summary="驳回变更")
def reject_change(change_id: IdPath, body: NoteIn, session: SessionDep,
                  principal: Approver) -> ChangeOut:
    return queries.change_out(changes.reject(session, principal, change_id, body.note))


@router.post("/{deal_id}/payments", response_model=PaymentOut, status_code=201,
             summary="登记收款（贷款仅在银行放款后登记）")
def record_payment(deal_id: IdPath, body: PaymentIn, session: SessionDep,
                   principal: Seller) -> PaymentOut:
    row = payments.record(session, principal, deal_id, amount_fen=body.amount_fen,
                          source=body.source, received_at=body.received_at, note=body.note)
    return PaymentOut.model_validate(row, from_attributes=True)


@router.get("/projects/{project_id}/calls", response_model=list[CallOut],
            summary="开盘选房的排号队列")
def list_calls(project_id: IdPath, session: SessionDep, principal: Approver
               ) -> list[CallOut]:
    return [_call(c) for c in opening.listing(session, principal, project_id)]


@router.post("/projects/{project_id}/calls", response_model=list[CallOut],
             summary="为已审批的认筹按审批先后排号")
def queue_calls(project_id: IdPath, session: SessionDep, principal: Approver
                ) -> list[CallOut]:
    return [_call(c) for c in opening.queue(session, principal, project_id)]


@router.post("/projects/{project_id}/calls/next", response_model=CallOut, summary="叫下一个号")
def call_next(project_id: IdPath, session: SessionDep, principal: Approver) -> CallOut:
    return _call(opening.call_next(session, principal, project_id))


@router.post("/calls/{call_id}/miss", response_model=CallOut, summary="过号：排到下一位之后")
def miss_call(call_id: IdPath, session: SessionDep, principal: Approver) -> CallOut:
    return _call(opening.miss(session, principal, call_id))


@router.post("/calls/{call_id}/pick", response_model=CallOut,
             summary="选房：所选房源为该认筹保留（默认 15 分钟）以办理认购")
def pick(call_id: IdPath, body: PickIn, session: SessionDep, principal: Approver) -> CallOut:
    return _call(opening.pick(session, principal, call_id, body.unit_id))


@router.get("/projects/{project_id}/settings", response_model=DealSettingsOut,
            summary="项目的交易设置（未设置时为默认值）")
def read_settings(project_id: IdPath, session: SessionDep, principal: Reader
                  ) -> DealSettingsOut:
    return _settings(project_settings.read(session, principal, project_id))


@router.put("/projects/{project_id}/settings", response_model=DealSettingsOut,
            summary="设置签约期限、选房保留、草稿期限与各角色折扣权限（记入审计）")
def save_settings(project_id: IdPath, body: DealSettingsIn, session: SessionDep,
                  principal: Configurer) -> DealSettingsOut:
    return _settings(project_settings.save(session, principal, project_id,
                                           project_settings.DealNumbers(**body.model_dump())))


def _settings(row: DealSetting) -> DealSettingsOut:
    return DealSettingsOut.model_validate(row, from_attributes=True)


def _one(session: SessionDep, settings: SettingsDep, principal: Principal,
         deal_id: int | None) -> DealOut:
    assert deal_id is not None
    return queries.detail(session, settings, principal, deal_id)


def _co_buyers(given: list[CoBuyerIn]) -> list[buyers.CoBuyer]:
    return [buyers.CoBuyer(name=c.name, phone=c.phone) for c in given]


def _call(c: DealCall) -> CallOut:
    return CallOut.model_validate(c, from_attributes=True)
