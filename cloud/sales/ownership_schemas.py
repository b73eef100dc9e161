"""Request and response bodies of the ownership routes (客户归属、公客池、撞单)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import DB_INT_MAX
from shared.timeutil import UtcDateTime

OwnershipState = Literal["owned", "overdue", "public", "invalid"]
Stage = Literal["visited", "pledged", "subscribed", "to_sign", "signed", "void", "refunded"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OwnershipRow(BaseModel):
    customer_id: int
    project_id: int
    site_id: str
    name_masked: str | None
    phone_masked: str
    stage: str = Field(description="销售阶段：visited 到访 / pledged 认筹 / subscribed 认购 / "
                                   "to_sign 待签约 / signed 已签约 / void 已失效 / refunded 退款")
    ownership: str = Field(description="owned 保护中 / overdue 逾期 / public 公客 / invalid 无效")
    owner_id: int | None
    owner_name: str | None
    previous_owner_id: int | None = Field(description="原归属顾问（逾期释放、转交前）")
    previous_owner_name: str | None
    owned_since: UtcDateTime | None
    protection_until: UtcDateTime
    last_effective_at: UtcDateTime | None = Field(description="最近一次有效跟进或到访")
    lapse_at: UtcDateTime | None = Field(description="不跟进将于此时逾期（认筹及以后不会逾期）")
    lapse_reason: str | None = Field(description="follow_up_overdue 跟进逾期 / "
                                                 "protection_ended 保护期结束")
    warn_from: UtcDateTime | None
    lapsed_at: UtcDateTime | None
    visit_count: int
    last_visit_at: UtcDateTime
    open_collisions: int


class OwnershipPage(BaseModel):
    items: list[OwnershipRow]
    total: int


class PathStepOut(BaseModel):
    id: int
    kind: str = Field(description="receive 首次接待 / return_visit 复访恢复 / overdue 逾期 / "
                                  "to_pool 释放公客池 / pickup 公客领取 / transfer 转交 / "
                                  "allocate 分配 / invalidate 标记无效")
    at: UtcDateTime
    from_owner_id: int | None
    from_owner_name: str | None
    to_owner_id: int | None
    to_owner_name: str | None
    actor_id: int | None = Field(description="操作人；空表示系统（到访同步、定时任务）")
    actor_name: str | None
    category: str | None
    reason: str | None


class CollisionOut(BaseModel):
    id: int
    customer_id: int
    project_id: int
    phone_masked: str
    visit_id: str
    owner_id: int
    owner_name: str | None
    consultant_id: int
    consultant_name: str | None
    occurred_at: UtcDateTime
    resolved_at: UtcDateTime | None


class OwnershipCard(BaseModel):
    customer: OwnershipRow
    path: list[PathStepOut] = Field(description="归属路径，早的在前")
    collisions: list[CollisionOut]


class AssignIn(_In):
    to_user_id: int = Field(ge=1, le=DB_INT_MAX, description="接收的置业顾问")
    expected_owner_id: int | None = Field(ge=1, le=DB_INT_MAX,
                                          description="操作时看到的归属顾问（无则为空）")
    expected_ownership: OwnershipState = Field(description="操作时看到的归属状态")
    reason: str = Field(min_length=2, max_length=200)


class InvalidateIn(_In):
    expected_ownership: OwnershipState
    reason: str = Field(min_length=2, max_length=200, description="如：空号、同行、非购房客户")


class StageIn(_In):
    to: Stage
    reason: str = Field(min_length=2, max_length=200)


class PickupIn(_In):
    reason: str | None = Field(None, max_length=200)


class PickupDecisionIn(_In):
    approve: bool
    note: str | None = Field(None, max_length=200)


class PickupOut(BaseModel):
    id: int
    customer_id: int
    project_id: int
    phone_masked: str
    requester_id: int
    requester_name: str
    status: str = Field(description="pending 待审批 / approved 已同意 / refused 已拒绝")
    reason: str | None
    decided_by: int | None
    decided_by_name: str | None
    decided_at: UtcDateTime | None
    decision_note: str | None
    created_at: UtcDateTime


class OwnershipSettingsIO(_In):
    protection_days: int = Field(30, ge=1, le=365, description="保护期（天），复访重新计算")
    follow_up_days: int = Field(7, ge=1, le=90, description="有效跟进周期（天）")
    warn_days: int = Field(2, ge=0, le=30, description="提前几天提醒")
    lapse_action: Literal["pool", "warn"] = Field(
        "pool", description="pool 逾期后释放到公客池 / warn 只标记逾期")
    reclaim_cooldown_days: int | None = Field(
        None, ge=0, le=365, description="原顾问可领回的冷却天数；空表示不能领回")
