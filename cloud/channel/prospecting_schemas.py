"""Bodies of the prospecting-task routes (拓客任务): the console's and the broker's."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

TaskStatus = Literal["draft", "published", "closed", "cancelled"]
TaskMetric = Literal["referrals", "valid_referrals", "visits", "invited_brokers"]
AssignMode = Literal["agencies", "brokers", "teams", "cooperating"]
Id = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
Target = Annotated[int, Field(ge=1, le=1_000_000, description="每个指派对象的目标数")]
Team = Annotated[str, Field(min_length=1, max_length=64)]

METRIC_NAMES: dict[str, str] = {
    "referrals": "报备数",
    "valid_referrals": "有效报备数",
    "visits": "带看到访数",
    "invited_brokers": "邀请经纪人数",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssigneeIn(_In):
    id: Id = Field(description="渠道公司 id（agencies）或经纪人 id（brokers）")
    target: Target | None = Field(None, description="空：用任务的目标")


class TaskIn(_In):
    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    metric: TaskMetric
    project_ids: list[Id] = Field(min_length=1, max_length=50)
    campaign_id: Id | None = None
    start_date: date = Field(description="第一天（北京时间）")
    end_date: date = Field(description="最后一天（北京时间，含）")
    target: Target
    assign_mode: AssignMode
    assignees: list[AssigneeIn] = Field(default_factory=list, max_length=500,
                                        description="agencies / brokers 方式时必填")
    teams: list[Team] = Field(default_factory=list, max_length=50,
                              description="teams 方式时必填")


class TaskUpdate(_In):
    """Fields left out stay. After publishing, the metric, projects and start cannot
    change (they would rewrite what was counted); every edit is audited."""

    title: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    metric: TaskMetric | None = None
    project_ids: list[Id] | None = Field(None, min_length=1, max_length=50)
    campaign_id: Id | None = None
    start_date: date | None = None
    end_date: date | None = None
    target: Target | None = None
    assign_mode: AssignMode | None = None
    assignees: list[AssigneeIn] | None = Field(None, max_length=500)
    teams: list[Team] | None = Field(None, max_length=50)
    status: Literal["published", "closed", "cancelled"] | None = Field(
        None, description="published 发布 / closed 关闭 / cancelled 取消")


class AssigneeProgress(BaseModel):
    kind: Literal["agency", "broker"]
    id: int = Field(description="渠道公司或经纪人 id")
    name: str
    agency_name: str | None = Field(description="经纪人所属渠道公司")
    target: int
    count: int = Field(description="任务期内的完成数（由数据统计）")
    rate: float = Field(description="完成率，0–1 以上（超额时大于 1）")


class LeaderRow(AssigneeProgress):
    rank: int
    mine: bool = Field(False, description="经纪人端：本人或本人所属渠道公司")


class TaskOut(BaseModel):
    id: int
    title: str
    description: str
    metric: TaskMetric
    metric_name: str
    project_ids: list[int]
    campaign_id: int | None
    start_date: date
    end_date: date
    starts_at: UtcDateTime
    ends_at: UtcDateTime
    target: int
    assign_mode: AssignMode
    teams: list[str]
    status: TaskStatus = Field(
        description="draft 草稿 / published 进行中 / closed 已关闭 / cancelled 已取消")
    assignee_count: int
    total_count: int = Field(description="全部指派对象的完成数之和")
    total_target: int
    rate: float = Field(description="总完成率 = 完成数之和 ÷ 目标之和")
    published_at: UtcDateTime | None
    closed_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class TaskDetailOut(TaskOut):
    assignees: list[AssigneeProgress] = Field(description="按指派顺序")
    leaderboard: list[LeaderRow] = Field(description="完成数降序，并列时完成率、名称、id")


class BrokerTaskOut(BaseModel):
    """A task as the broker sees it: their own (or their agency's) progress."""

    id: int
    title: str
    description: str
    metric: TaskMetric
    metric_name: str
    project_names: list[str]
    start_date: date
    end_date: date
    status: TaskStatus
    level: Literal["agency", "broker"] = Field(description="按渠道公司或按经纪人考核")
    target: int
    count: int
    rate: float
    rank: int
    ranked: int = Field(description="排行榜人数")
    my_count: int = Field(description="本人的完成数（按渠道公司考核时为本人的贡献）")


class BrokerTaskDetailOut(BrokerTaskOut):
    leaderboard: list[LeaderRow] = Field(description="其他经纪人姓名已脱敏")
