"""Bodies of 渠道业绩 (funnel, trend, rankings) and 多维查询."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cloud.channel.analytics import Filters
from cloud.channel.schemas import CustomerGroup, ReferralState
from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

Id = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
Ids = Annotated[list[Id], Field(max_length=50)]
Name = Annotated[str, Field(min_length=1, max_length=40)]
Key = int | str | None
Group = Literal["channel_group", "agency", "team", "channel_kind"]
Granularity = Literal["day", "week", "month"]
Subject = Literal["agency", "broker", "consultant"]
RankBy = Literal["referrals", "valid", "visited", "conversion_rate"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FiltersIn(_In):
    date_from: date | None = Field(None, description="报备日期起（北京时间），默认近 30 天")
    date_to: date | None = Field(None, description="报备日期止（北京时间，含当天），默认今天")
    project_ids: Ids = Field(default_factory=list)
    agency_ids: Ids = Field(default_factory=list)
    broker_ids: Ids = Field(default_factory=list)
    consultant_ids: Ids = Field(default_factory=list, description="接待的置业顾问")
    teams: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20)
    channel_kinds: list[Literal["agency", "individual"]] = Field(default_factory=list,
                                                                  max_length=2)
    customer_groups: list[CustomerGroup] = Field(default_factory=list, max_length=2)
    states: list[ReferralState] = Field(default_factory=list, max_length=4)
    reason_codes: list[Name] = Field(default_factory=list, max_length=40)

    def filters(self, start: date, end: date) -> Filters:
        return Filters(
            date_from=start, date_to=end, project_ids=tuple(self.project_ids),
            agency_ids=tuple(self.agency_ids), broker_ids=tuple(self.broker_ids),
            consultant_ids=tuple(self.consultant_ids), teams=tuple(self.teams),
            channel_kinds=tuple(self.channel_kinds),
            customer_groups=tuple(self.customer_groups), states=tuple(self.states),
            reason_codes=tuple(self.reason_codes))


class SortIn(_In):
    by: Name = Field(description="已选的维度或指标")
    desc: bool = False


class QueryDefinition(_In):
    """A query without its page: what a saved query keeps."""

    dimensions: list[Name] = Field(default_factory=list, max_length=10,
                                   description="分组维度，最多 3 个")
    measures: list[Name] = Field(min_length=1, max_length=20, description="统计指标")
    filters: FiltersIn = Field(default_factory=FiltersIn)
    sort: list[SortIn] = Field(default_factory=list, max_length=6)


class PageIn(_In):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=500)


class QueryIn(QueryDefinition, PageIn):
    pass


# A saved query's name: shown in a menu and part of its URL (no slash, no control
# characters).
SavedName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^/\x00-\x1f\x7f]+$")]


class SavedQueryOut(BaseModel):
    name: str
    query: QueryDefinition
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ColumnOut(BaseModel):
    key: str
    title: str
    kind: Literal["dimension", "measure"]


class QueryOut(BaseModel):
    columns: list[ColumnOut]
    items: list[dict[str, Any]] = Field(
        description="每行：各维度的键（维度名）与名称（维度名_label），各指标的值")
    total: int = Field(description="分组总行数")
    page: int
    page_size: int
    needs: list[str] = Field(description="尚缺的数据，如 deals（成交数据尚未接入）")


class FieldOut(BaseModel):
    key: str
    title: str


class FieldsOut(BaseModel):
    dimensions: list[FieldOut]
    measures: list[FieldOut]
    max_dimensions: int


class Stages(BaseModel):
    referrals: int
    valid: int
    visited: int
    attributed: int
    subscribed: int | None = Field(description="认购；成交数据接入前为空（needs 含 deals）")
    conversion_rate: float | None = Field(description="判客有效 ÷ 报备")


class GroupStages(Stages):
    key: Key
    label: str


class TrendPoint(Stages):
    bucket: str = Field(description="日 2026-11-02 / 周（周一）2026-11-02 / 月 2026-11")


class PerformanceOut(BaseModel):
    date_from: date
    date_to: date
    group: Group
    granularity: Granularity
    needs: list[str]
    total: Stages
    items: list[GroupStages]
    trend: list[TrendPoint]


class RankingRow(BaseModel):
    rank: int
    key: Key
    label: str
    referrals: int
    valid: int
    visited: int
    attributed: int
    conversion_rate: float | None


class RankingOut(BaseModel):
    subject: Subject
    by: RankBy
    date_from: date
    date_to: date
    items: list[RankingRow]
