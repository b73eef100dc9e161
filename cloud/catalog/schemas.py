from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cloud.catalog.geo import Datum
from shared.envelope import SITE_ID_PATTERN
from shared.timeutil import UtcDateTime


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SITE_ID_PATTERN, description="短代码，如 sh-xuhui")
    name: str = Field(min_length=1, max_length=100)


class SitePositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, description="纬度")
    lng: float = Field(ge=-180, le=180, description="经度")
    datum: Datum = Field(
        default="gcj02", description="所填坐标的坐标系：gcj02 高德/腾讯地图拾取，"
                                     "bd09 百度地图拾取，wgs84 GPS；云端统一存为 WGS-84")
    address: str = Field(default="", max_length=200, description="案场地址")


class LatLng(BaseModel):
    lat: float
    lng: float


class SitePosition(BaseModel):
    wgs84: LatLng = Field(description="存储与比对所用的 WGS-84 坐标")
    gcj02: LatLng = Field(description="同一位置的 GCJ-02 坐标，便于在高德/腾讯地图核对")
    address: str
    set_by: int | None
    set_at: UtcDateTime | None


class SitePublic(BaseModel):
    id: str
    name: str
    is_active: bool
    created_at: UtcDateTime
    position: SitePosition | None = Field(
        default=None, description="案场位置（签约地点风控的带看确认地点）；未设置时为空")


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: str = Field(pattern=SITE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    city: str = Field(default="", max_length=50)


class ProjectPublic(BaseModel):
    id: int
    site_id: str
    name: str
    city: str
