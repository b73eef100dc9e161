"""The faces domain's API shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from shared.events import Text
from shared.faces import SIGNAGE_TEXT_MAX
from shared.timeutil import UtcDateTime


class SiteFacesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: Annotated[bool, Strict()]
    signage_text: Text | None = Field(None, min_length=1, max_length=SIGNAGE_TEXT_MAX,
                                      description="现场告示牌文字（开启时必填）")
    capture_area: Text | None = Field(None, min_length=1, max_length=300,
                                      description="采集区域说明，如“售楼处入口至洽谈区”（开启时必填）")
    notice_version: Text | None = Field(None, min_length=1, max_length=32,
                                        description="人脸信息处理告知书版本（开启时必填）")
    crop_retention_days: int = Field(0, ge=0, le=30,
                                     description="抓拍小图在案场设备上的保留天数；0 不保留")


class SiteFacesOut(BaseModel):
    site_id: str
    enabled: bool
    signage_text: str | None
    capture_area: str | None
    notice_version: str | None
    crop_retention_days: int
    changed_by: int | None
    changed_at: UtcDateTime | None


class FaceCountOut(BaseModel):
    persons: int = Field(description="存有人脸数据的去重人数（全部案场）")
    counted_at: UtcDateTime
    warning_at: int = Field(description="预警人数")
    filing_at: int = Field(description="须向省级网信部门备案的人数")
    level: Literal["ok", "warning", "filing"] = Field(
        description="ok 正常 / warning 已达预警 / filing 已达备案人数（30 个工作日内备案）")
    warning_since: UtcDateTime | None
    filing_since: UtcDateTime | None


class SightingOut(BaseModel):
    sighting_id: str
    site_id: str
    camera_id: str
    person_ref: str
    subject: str
    first_seen_at: UtcDateTime
    last_seen_at: UtcDateTime
    count: int
    score: float | None


class FaceConsentOut(BaseModel):
    site_id: str
    person_ref: str
    visit_id: str
    granted: bool
    notice_version: str
    method: str
    recorded_at: UtcDateTime


class FaceDataOut(BaseModel):
    """A customer's face data as the cloud knows it (reading it is audited)."""

    customer_id: int
    consents: list[FaceConsentOut]
    sightings: list[SightingOut]


class SubjectFace(BaseModel):
    """One face of the subject a site keeps, as the cloud knows it (an access request)."""

    customer_id: int
    site_id: str
    person_ref: str
    consents: list[FaceConsentOut]
    sightings: int = Field(description="总部保存的识别记录条数")
    first_seen_at: UtcDateTime | None
    last_seen_at: UtcDateTime | None


class FaceErasureOut(BaseModel):
    site_id: str
    request_id: str
    person_ref: str
    sent_at: UtcDateTime
    due_at: UtcDateTime
    erased_at: UtcDateTime | None
    state: Literal["pending", "erased", "overdue"] = Field(
        description="pending 待案场回执 / erased 案场已删除 / overdue 超期未回执")
