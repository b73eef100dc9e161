"""Request and response bodies of the deal routes. Money is integer fen, as in the
inventory's routes; the console shows it as yuan."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.bounds import DB_INT_MAX
from shared.payment import PaymentMethod
from shared.timeutil import UtcDateTime

MAX_FEN = 10**15  # as the inventory's import: above any real flat, fits bigint
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
BuyerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=40)]
Id = Annotated[int, Field(ge=1, le=DB_INT_MAX)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CoBuyerIn(Strict):
    name: BuyerName
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=40)] = Field(
        description="11 位中国大陆手机号，加密保存")


CoBuyers = Annotated[list[CoBuyerIn], Field(max_length=4, description="共同购买人（最多 4 人）")]


class CoBuyersIn(Strict):
    co_buyers: CoBuyers


class Place(Strict):
    lat: float = Field(ge=-90, le=90, description="纬度（WGS-84）")
    lng: float = Field(ge=-180, le=180, description="经度（WGS-84）")


class IdCheckIn(Strict):
    id_type: Literal["resident_id", "passport", "hk_macao_permit", "taiwan_permit"]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=40)] = Field(
        description="只保存后 4 位（脱敏）与盲索引，不保存明文")


class DealIn(Strict):
    kind: Literal["pledge", "subscription"]
    customer_id: Id
    unit_id: Id | None = Field(default=None, description="认购必填；认筹按项目设置可不选房")
    buyer_name: BuyerName
    payment_method: PaymentMethod
    price_fen: Fen = Field(default=0, description="成交总价（分）；有房源时不得低于底价")
    amount_fen: Fen = Field(default=0, description="本单应收（认筹金 / 定金 / 首付，分）")
    co_buyers: CoBuyers = []


class ConvertIn(Strict):
    unit_id: Id | None = Field(default=None, description="仅当认筹未绑定房源时填写")
    payment_method: PaymentMethod
    price_fen: Fen | None = None
    amount_fen: Fen = 0
    signing_location: Place | None = Field(
        default=None,
        description="签约地点：手机定位的坐标（仅认购转签约时可填），用于签约地点风控")
    signing_place_source: Literal["device", "site"] | None = Field(
        default=None, description="签约地点来源：device 手机定位（须同时填 signing_location）；"
                                  "site 在案场签约（云端取案场位置，不填坐标）；不填则视坐标而定")


class NoteIn(Strict):
    note: Note = ""


class ReasonIn(Strict):
    reason: Note


class ChangeIn(Strict):
    kind: Literal["cancel", "swap", "rename", "price"]
    reason: Note
    new_unit_id: Id | None = None
    new_buyer_name: BuyerName | None = None
    new_price_fen: Fen | None = None


class PaymentIn(Strict):
    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN)]
    source: Literal["buyer", "bank"] = "buyer"
    received_at: UtcDateTime | None = None
    note: Note = ""


class PickIn(Strict):
    unit_id: Id


class DealOut(BaseModel):
    id: int
    project_id: int
    customer_id: int
    customer_name_masked: str | None = Field(description="客户姓名（脱敏）；未留姓名时为空")
    customer_phone_masked: str = Field(description="客户手机号（脱敏）")
    unit_id: int | None
    unit_label: str | None = Field(description="楼栋 + 房号")
    parent_id: int | None
    kind: str
    kind_name: str
    status: str
    status_name: str
    buyer_name: str = Field(description="购房人（脱敏）")
    payment_method: str
    payment_method_name: str
    price_fen: int
    list_price_fen: int
    floor_price_fen: int | None = Field(description="底价；仅能看全部房源的角色可见")
    amount_fen: int
    carried_fen: int
    consultant_id: int
    consultant_name: str | None
    created_by: int
    created_at: UtcDateTime
    submitted_at: UtcDateTime | None
    approved_at: UtcDateTime | None
    contract_due_at: UtcDateTime | None
    decision_note: str
    ended_reason: str


class ChangeOut(BaseModel):
    id: int
    deal_id: int
    kind: str
    kind_name: str
    new_unit_id: int | None
    new_price_fen: int | None
    renamed: bool
    reason: str
    status: str
    requested_by: int
    requested_at: UtcDateTime
    decided_at: UtcDateTime | None
    decision_note: str


class PaymentOut(BaseModel):
    id: int
    amount_fen: int
    source: str
    received_at: UtcDateTime
    note: str


class CoBuyerOut(BaseModel):
    name: str = Field(description="姓名（脱敏）")
    phone_masked: str
    customer_id: int | None = Field(description="项目中同一号码的客户")


class IdCheckOut(BaseModel):
    id_type: str
    id_type_name: str
    id_masked: str
    checked_by: int
    checked_at: UtcDateTime


class DealDetail(DealOut):
    co_buyers: list[CoBuyerOut]
    id_check: IdCheckOut | None
    signing_location: Place | None
    signing_place_source: str | None = Field(
        description="签约地点来源：device 手机定位 / site 案场；未记录签约地点时为空")
    received_fen: int
    changes: list[ChangeOut]
    payments: list[PaymentOut]
    lowest_approvable_fen: int | None = Field(
        description="调用者可审批的最低价（分）；无审批权时为空")


class CallOut(BaseModel):
    id: int
    pledge_id: int
    number: int
    position: int
    status: str
    unit_id: int | None
    called_at: UtcDateTime | None
    hold_until: UtcDateTime | None


class DealSettingsIn(Strict):
    contract_days: int = Field(7, ge=1, le=90, description="认购后签约期限（天）")
    pick_hold_minutes: int = Field(15, ge=1, le=240, description="开盘选房保留时长（分钟）")
    draft_days: int = Field(3, ge=1, le=30, description="草稿占用房源的最长天数，超过自动取消")
    manager_discount_pct: int = Field(
        100, ge=0, le=100, description="销售经理折扣权限：表价到底价之间可批的百分比")
    director_discount_pct: int = Field(100, ge=0, le=100, description="销售总监折扣权限（%）")


class DealSettingsOut(DealSettingsIn):
    project_id: int
    updated_by: int | None
    updated_at: UtcDateTime | None
