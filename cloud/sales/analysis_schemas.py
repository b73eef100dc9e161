"""Answers of 销售分析. Each figure's definition is its field's description: the API
schema is where a reader of the numbers looks it up (docs/sales-analysis.md repeats it)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["team", "product", "consultant", "channel"]
SellThroughBy = Literal["batch", "product", "team"]
IntentionField = Literal["grade", "purpose", "layout", "area", "budget", "awareness",
                         "gender", "region", "source"]
Key = int | str | None

_KEY = "分组键：案场编号、户型、置业顾问编号、来源代码或推盘批次编号；null 为未知/未填写"


class FigureRow(BaseModel):
    key: Key = Field(description=_KEY)
    label: str = Field(description="分组名称（合计行为「合计」）")
    visits: int = Field(description="到访组数：到访日期（北京时间）在所选日期内的到访；"
                                    "同一客户同一天为一组（一次到访）")
    first_visits: int = Field(description="首访组数：其中客户在本项目的第一次到访")
    return_visits: int = Field(description="复访组数 = 到访组数 − 首访组数")
    call_visits: int = Field(description="来电到访组数：其中认知途径为「电话」的到访")
    calls: int | None = Field(description="来电组数：来电日期（北京时间）在所选日期内的来电登记"
                                          "（每条登记一次来电）；按产品、渠道分组时来电无此维度，"
                                          "分组行为 null（合计行仍有）")
    call_to_visit: float | None = Field(
        description="来电转来访 = 到访组数 ÷ 来电组数（同一日期范围）；"
                    "来电为 0 或为 null 时为 null")
    pledges: int = Field(description="认筹数：审批通过时间在所选日期内的认筹单")
    subscriptions: float = Field(description="认购数（成交）：审批通过时间在所选日期内的认购单"
                                             "（含其后转签约、退房者）。义务接待当日成交的认购单，"
                                             "按顾问统计时接待者与归属顾问各计份额（默认各 0.5）")
    subscription_amount_fen: int = Field(description="认购金额（分）：上述认购单的成交总价之和；"
                                                     "义务接待当日成交的按同一份额拆分"
                                                     "（接待者的一份取整到分，其余归归属顾问）")
    visit_to_deal: float | None = Field(description="来访转成交 = 认购数 ÷ 到访组数（同一日期范围；"
                                                    "到访为 0 时为 null）")
    contracts: int = Field(description="签约数：审批通过时间在所选日期内的签约单")
    contract_amount_fen: int = Field(description="签约金额（分）：上述签约单的成交总价之和")
    returns: int = Field(description="退房数：所选日期内批准执行的签约单退房变更")
    returned_amount_fen: int = Field(description="退房金额（分）：上述退房签约单的成交总价之和")
    swaps: int = Field(description="换房数：所选日期内批准执行的签约单换房变更")
    net_contracts: int = Field(
        description="净签约 = 签约 − 退房 + 换房。本系统换房只把签约单移到新房源，"
                    "既不关闭原单也不新增签约，故换房不计入签约与退房，"
                    "公式中的 + 换房 与换房产生的退房相抵：净签约 = 签约数 − 退房数")
    net_contract_amount_fen: int = Field(description="净签约金额（分）= 签约金额 − 退房金额")


class FiguresOut(BaseModel):
    group_by: GroupBy | None
    date_from: date
    date_to: date
    items: list[FigureRow]
    total: FigureRow


class FunnelRow(BaseModel):
    key: Key = Field(description=_KEY)
    label: str
    stored: int = Field(description="储客：首次到访（北京时间）在所选日期内的客户，"
                                    "按其第一接待顾问、首访来源与首访意向户型分组")
    followed: int = Field(description="跟客：其中至今有过有效跟进（联系上或到访）、"
                                      "复访或已成交的客户")
    bought: int = Field(description="成交：其中至今有审批通过的认购单的客户")
    follow_rate: float | None = Field(description="跟客率 = 跟客 ÷ 储客")
    deal_rate: float | None = Field(description="成交率 = 成交 ÷ 储客")


class FunnelOut(BaseModel):
    group_by: GroupBy | None
    date_from: date
    date_to: date
    items: list[FunnelRow]
    total: FunnelRow


class SellThroughRow(BaseModel):
    key: Key = Field(description=_KEY)
    label: str
    released: int = Field(description="已推房源：当前属于某推盘批次的房源（撤盘的不计）")
    sold: int = Field(description="已售：其中处于认购、签约或已交付的房源")
    sold_area_centi: int = Field(description="已售建筑面积（0.01 ㎡）")
    sell_through: float | None = Field(description="去化率 = 已售 ÷ 已推（当前状态，按批次）")


class SellThroughOut(BaseModel):
    group_by: SellThroughBy
    items: list[SellThroughRow]
    total: SellThroughRow


class IntentionCell(BaseModel):
    key: Key = Field(description=_KEY)
    label: str
    value: str | None = Field(description="意向字段的取值代码；面积、预算为分段（如 <120）")
    value_label: str
    visits: int = Field(description="到访组数：所选日期内该分组中回答此值的到访")


class IntentionsOut(BaseModel):
    group_by: GroupBy | None
    field: IntentionField
    date_from: date
    date_to: date
    items: list[IntentionCell]
