from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.envelope import SITE_ID_PATTERN
from shared.timeutil import UtcDateTime


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SITE_ID_PATTERN, description="短代码，如 sh-xuhui")
    name: str = Field(min_length=1, max_length=100)


class SitePublic(BaseModel):
    id: str
    name: str
    is_active: bool
    created_at: UtcDateTime


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
