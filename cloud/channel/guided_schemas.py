"""Bodies of the 带看记录 routes: guided-visit attempts and provisional answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from cloud.channel.guided_records import GuideResult
from cloud.channel.schemas import ReferralState
from shared.events import ProvisionalAnswer
from shared.timeutil import UtcDateTime


class GuidedVisitOut(BaseModel):
    id: int
    scanned_at: UtcDateTime = Field(description="扫码或指定时间（设备时间，经校正）")
    received_at: UtcDateTime = Field(description="云端收到时间")
    site_id: str
    project_id: int
    project_name: str | None
    referral_id: int | None = Field(description="报备（被拒的码只是码上声称的）")
    phone_masked: str | None = Field(description="报备客户号码（脱敏）")
    broker_id: int | None
    broker_name: str | None
    method: Literal["qr", "manual"] = Field(description="qr 扫码带看 / manual 前台手工指定")
    outcome: Literal["accepted", "refused", "replayed"]
    result: GuideResult = Field(
        description="accepted 有效 / forged 伪造 / expired 过期 / replayed 本设备重复使用 / "
        "duplicate 已在其他设备使用（风险） / refused 其他原因拒收")
    reason_code: str
    visit_id: str | None
    edge_state: ReferralState | None = Field(description="设备临时判定")
    edge_reason: str | None
    cloud_state: ReferralState | None = Field(description="云端判定（以此为准）")
    cloud_reason: str | None
    differs: bool


class ProvisionalCompareOut(BaseModel):
    visit_id: str
    occurred_at: UtcDateTime
    site_id: str
    project_id: int
    project_name: str | None
    phone_masked: str
    source: str
    broker_id: int | None
    guide_method: Literal["qr", "manual"] | None
    edge: ProvisionalAnswer = Field(description="登记时设备的临时判客")
    cloud: ProvisionalAnswer | None = Field(description="云端对同一时刻的判客（以此为准）")
    differs: bool
    differences: list[str] = Field(description="不同之处（设备 → 云端）")
