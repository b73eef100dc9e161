"""Bodies of the my-customers routes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.reception_events import VisitProfile
from shared.timeutil import UtcDateTime

Stage = Literal["visited", "pledged", "subscribed", "to_sign", "signed", "void", "refunded"]
Ownership = Literal["owned", "overdue", "public", "invalid"]


class MyCustomerOut(BaseModel):
    key: str = Field(description="项目 id + 手机号盲索引，本案场内唯一")
    project_id: int
    phone_masked: str
    name_masked: str | None
    visit_count: int
    last_visit_at: UtcDateTime | None
    last_effective_at: UtcDateTime | None = Field(description="最近一次有效跟进或到访")
    due_day: date | None = Field(description="最迟跟进日（北京时间）")
    follow_state: Literal["ok", "due_soon", "overdue"] | None = Field(
        description="ok 正常 / due_soon 待跟进（到期前 2 天起）/ overdue 逾期")
    protection_until: UtcDateTime | None
    customer_ref: str | None = Field(description="云端客户 id（云端已确认时）")
    provisional: bool = Field(description="云端尚未确认归属（仅本案场登记）")
    first_visit_at: UtcDateTime | None = Field(description="首次到访")
    return_visits: int = Field(description="复访次数（到访次数减一）")
    status: str = Field(description="销售阶段：visited 到访 / pledged 认筹 / subscribed 认购 / "
                        "to_sign 待签约 / signed 已签约 / void 已失效 / refunded 退款")
    ownership: str = Field(description="owned 有效 / overdue 逾期 / public 公客 / invalid 无效")
    payment_method: str | None = Field(description="付款方式（成交后由云端下发）")
    source: str | None = Field(description="客户来源（首次到访的来源）")
    profile: VisitProfile = Field(description="客户画像与意向：各字段取最近一次登记的值")
    phone_region: str | None = Field(description="号码归属地")


class HistoryEntryOut(BaseModel):
    kind: Literal["visit", "follow_up"]
    at: UtcDateTime
    consultant_id: int | None
    visit_id: uuid.UUID | None = None
    party_size: int | None = None
    classification: str | None = None
    follow_up_id: uuid.UUID | None = None
    follow_up_kind: Literal["call", "visit", "wechat", "meeting"] | None = None
    reached: bool | None = None
    effective: bool | None = None
    note: str | None = None


class CustomerHistoryOut(BaseModel):
    customer: MyCustomerOut
    history: list[HistoryEntryOut]


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field("电话跟进", min_length=2, max_length=200, description="查看原因，写入审计")


class RevealedOut(BaseModel):
    phone: str
    name: str | None
