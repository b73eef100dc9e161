"""Dependencies of the kiosk routes: the store, settings, and the kiosk bearer token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edge_agent.settings import EdgeSettings
from edge_agent.store import Store
from shared.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="the kiosk tablet's token")


class KioskTokenInvalid(Unauthorized):
    code = "kiosk_token_invalid"
    title = "终端令牌无效，请联系管理员重新配置前台平板"


def get_settings(request: Request) -> EdgeSettings:
    settings: EdgeSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[EdgeSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def require_kiosk(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """`Authorization: Bearer <kiosk_token>`, compared in constant time."""
    expected = settings.kiosk_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, expected):
        raise KioskTokenInvalid()


KioskAuth = Depends(require_kiosk)
